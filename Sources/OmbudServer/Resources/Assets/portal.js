// The portal's form: "use my location" fills the point from the device, and files too many or too large are
// refused before they are sent. The form works the same without this script; the server checks everything again.
(function () {
  "use strict";
  var locate = document.getElementById("locate");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  if (locate && lat && lon && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
      });
    });
  }
  // The chosen service's questions ("how deep is the pothole?"), asked in the form.
  var service = document.getElementById("service");
  var checklist = document.getElementById("checklist");
  if (service && checklist) {
    service.addEventListener("change", function () {
      fetch("/portal/checklist?service=" + encodeURIComponent(service.value), { headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) { checklist.innerHTML = html; })
        .catch(function () {});
    });
  }
  var files = document.getElementById("files");
  if (files) {
    files.addEventListener("change", function () {
      var max = parseInt(files.getAttribute("data-max"), 10);
      var limit = parseInt(files.getAttribute("data-limit"), 10);
      var total = 0;
      for (var i = 0; i < files.files.length; i++) total += files.files[i].size;
      files.setCustomValidity(files.files.length > max || total > limit ? files.getAttribute("title") || "!" : "");
      files.reportValidity();
    });
  }
})();
