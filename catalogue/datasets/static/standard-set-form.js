// The standard set form, enhanced: a term chosen in the autocomplete
// (core/static/js/autocomplete.js) is appended to the terms as a new line. Without this file
// the terms are typed one per line.
(function () {
  "use strict";

  function init() {
    var input = document.getElementById("term_add");
    var lines = document.getElementById("terms");
    if (!input || !lines) { return; }
    var region = document.createElement("div");
    region.className = "visually-hidden";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    input.parentNode.appendChild(region);
    input.addEventListener("autocomplete:select", function (event) {
      var curie = event.detail.curie;
      var present = lines.value.split(/\r?\n/).some(function (line) {
        return line.split("|")[0].trim().toUpperCase() === curie.toUpperCase();
      });
      if (present) {
        region.textContent = event.detail.label + " is in the set already.";
      } else {
        var text = lines.value.replace(/\s+$/, "");
        lines.value = (text ? text + "\n" : "") + curie;
        region.textContent = event.detail.label + " (" + curie + ") added as the last line.";
      }
      input.value = "";
      input.focus();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
