// The slip's "Print" button (Ctrl+P does the same without this script).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
