// The intake form without round trips: the caller's card is looked up as the operator types, topics are found as
// they are typed, questions are added in place, files can be dropped on the form, and the district is suggested from
// the address. Every one of these also works without this script, by the form's own buttons.
(function () {
  "use strict";
  var form = document.getElementById("intake");
  if (!form) return;

  function debounce(fn, ms) {
    var timer;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function fetchInto(url, target) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { target.innerHTML = html; })
      .catch(function () { /* the form's own buttons still work */ });
  }

  // The caller: cards with the same phone or e-mail, a similar name at the same address, or the name typed.
  var matches = document.getElementById("applicant-matches");
  var lookupFields = Array.prototype.slice.call(form.querySelectorAll("[data-lookup]"));
  var lookup = debounce(function () {
    var chosen = form.querySelector("input[name=applicantId]:checked");
    if (chosen && chosen.value) return; // "same person" was picked: keep the list as it is
    var params = new URLSearchParams();
    var typed = false;
    lookupFields.forEach(function (field) {
      if (field.value.trim()) { params.set(field.name, field.value.trim()); typed = true; }
    });
    if (!typed) { matches.innerHTML = ""; return; }
    fetchInto("/appeals/new/applicants?" + params.toString(), matches);
  }, 300);
  lookupFields.forEach(function (field) { field.addEventListener("input", lookup); });

  // Topics: found by words or code while typed; picking one fills the question last in focus.
  var topicQuery = document.getElementById("topicQuery");
  var topicResults = document.getElementById("topic-results");
  var lastTopicField = form.querySelector("[data-topic]");
  form.addEventListener("focusin", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-topic")) lastTopicField = event.target;
  });
  if (topicQuery) {
    var findTopics = debounce(function () {
      var q = topicQuery.value.trim();
      if (q.length < 2) { topicResults.innerHTML = ""; return; }
      fetchInto("/appeals/new/topics?q=" + encodeURIComponent(q), topicResults);
    }, 250);
    topicQuery.addEventListener("input", findTopics);
    topicQuery.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); findTopics(); }
    });
    topicResults.addEventListener("change", function (event) {
      var picked = event.target;
      if (picked.name !== "pickTopic" || !lastTopicField) return;
      var empty = Array.prototype.filter.call(form.querySelectorAll("[data-topic]"), function (f) { return !f.value.trim(); })[0];
      var target = lastTopicField.value.trim() && empty ? empty : lastTopicField;
      target.value = picked.value;
      // The topic's name under its code, as the page shows it after a round trip.
      var name = target.parentNode.querySelector(".topic-name");
      if (!name) {
        name = document.createElement("p");
        name.className = "hint topic-name";
        target.parentNode.insertBefore(name, target.nextSibling);
      }
      name.textContent = picked.parentNode.textContent.replace(picked.value, "").trim();
      picked.checked = false;
      form.dispatchEvent(new Event("topicpicked"));
      topicResults.innerHTML = "";
      topicQuery.value = "";
      target.focus();
    });
  }

  // The chosen topics' checklist questions, asked as soon as a topic is there; answers typed so far are kept.
  var checklistBox = document.getElementById("checklist");
  var refreshChecklist = debounce(function () {
    if (!checklistBox) return;
    var params = new URLSearchParams();
    form.querySelectorAll("[data-topic]").forEach(function (f) { if (f.value.trim()) params.append("topics[]", f.value.trim()); });
    checklistBox.querySelectorAll("[name^='checklist[']").forEach(function (f) { if (f.value) params.append(f.name, f.value); });
    var channel = document.getElementById("channel");
    if (channel) params.set("channel", channel.value);
    fetchInto("/appeals/new/checklist?" + params.toString(), checklistBox);
  }, 300);
  form.addEventListener("input", function (event) { if (event.target.hasAttribute && event.target.hasAttribute("data-topic")) refreshChecklist(); });
  form.addEventListener("topicpicked", refreshChecklist);
  var channelField = document.getElementById("channel");
  if (channelField) channelField.addEventListener("change", refreshChecklist);

  // Another question, in place.
  var add = document.getElementById("add-question");
  if (add) {
    add.addEventListener("click", function (event) {
      var rows = form.querySelectorAll(".question");
      var last = rows[rows.length - 1];
      var copy = last.cloneNode(true);
      var index = rows.length;
      copy.querySelectorAll("input").forEach(function (input) {
        input.value = "";
        input.removeAttribute("aria-invalid");
        input.id = input.name === "topics[]" ? "topicCode-" + index : "topicCode-" + index + "-text";
      });
      copy.querySelectorAll("label").forEach(function (label, i) {
        label.htmlFor = i === 0 ? "topicCode-" + index : "topicCode-" + index + "-text";
      });
      copy.querySelectorAll(".field-error, .topic-name").forEach(function (node) { node.remove(); });
      last.parentNode.insertBefore(copy, last.nextSibling);
      event.preventDefault();
      copy.querySelector("input").focus();
    });
  }

  // Files dropped anywhere on the form go to the file field.
  var files = document.getElementById("files");
  var drop = document.getElementById("drop");
  if (files && drop) {
    ["dragenter", "dragover"].forEach(function (name) {
      form.addEventListener(name, function (event) { event.preventDefault(); drop.classList.add("dragover"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      form.addEventListener(name, function () { drop.classList.remove("dragover"); });
    });
    form.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) { files.files = event.dataTransfer.files; checkFiles(); }
    });
    // The server takes the form's files together up to the attachment limit; say so before sending, not after.
    var tooBig = document.getElementById("files-too-big");
    var checkFiles = function () {
      var total = 0;
      Array.prototype.forEach.call(files.files, function (f) { total += f.size; });
      var bad = total > Number(files.getAttribute("data-limit")) || files.files.length > Number(files.getAttribute("data-max"));
      tooBig.hidden = !bad;
      files.setAttribute("aria-invalid", bad ? "true" : "false");
      return !bad;
    };
    files.addEventListener("change", checkFiles);
    form.addEventListener("submit", function (event) {
      if (!checkFiles()) { event.preventDefault(); files.focus(); }
    });
  }

  // The address register: the building's district and point when none is typed (else the district most appeals at
  // this street were filed under).
  var address = document.getElementById("address");
  var district = document.getElementById("district");
  var point = document.getElementById("point");
  if (address && district) {
    address.addEventListener("change", function () {
      if (!address.value.trim() || (district.value.trim() && (!point || point.value.trim()))) return;
      fetch("/appeals/new/address?address=" + encodeURIComponent(address.value), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : {}; })
        .then(function (found) {
          if (found.district && !district.value.trim()) district.value = found.district;
          if (point && found.lat != null && found.lon != null && !point.value.trim()) point.value = found.lat.toFixed(6) + ", " + found.lon.toFixed(6);
        })
        .catch(function () {});
    });
  }

  // A call with no e-mail, no postal address and no reply channel chosen has nowhere for the answer to go: say so
  // while the caller is still on the line.
  var warning = document.getElementById("no-reply-warning");
  if (warning) {
    var watched = ["email", "postalAddress", "replyChannel", "channel"].map(function (id) { return document.getElementById(id); })
      .filter(function (field) { return field; });
    var check = function () {
      var chosenCard = form.querySelector("input[name=applicantId]:checked");
      var value = function (id) { var f = document.getElementById(id); return f ? f.value.trim() : ""; };
      var channel = value("channel");
      var answersItself = channel === "e-mail" || channel === "social" || channel === "sms";
      warning.hidden = !!(value("email") || value("postalAddress") || value("replyChannel") || answersItself ||
                          (chosenCard && chosenCard.value && chosenCard.value !== "new"));
    };
    watched.forEach(function (field) { field.addEventListener("input", check); field.addEventListener("change", check); });
    form.addEventListener("change", check);
    check();
  }

  // After "add question" without the script the page comes back with the focus on the new row.
  var focus = form.getAttribute("data-focus");
  if (focus && document.getElementById(focus)) document.getElementById(focus).focus();
})();
