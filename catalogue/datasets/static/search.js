// The search page, enhanced: facet trees fold (a button per branch, Enter/Space or a click
// opens and closes it; branches holding a selected value start open) and the "Apply filters"
// button stays as the one way to run the search, so that ticking boxes never reloads the page
// under the user. Without this file every branch is open and the page works the same.
(function () {
  "use strict";

  function setOpen(button, panel, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    panel.hidden = !open;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".tree-toggle-slot[data-toggle-for]").forEach(function (slot) {
      var panel = document.getElementById(slot.getAttribute("data-toggle-for"));
      var node = slot.closest(".facet-node");
      if (!panel || !node) { return; }
      var label = node.querySelector(".facet-label");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "tree-toggle";
      button.setAttribute("aria-controls", panel.id);
      button.setAttribute("aria-label", "Narrower terms of " + (label ? label.textContent : "this term"));
      slot.replaceWith(button);
      setOpen(button, panel, node.getAttribute("data-open") === "true");
      button.addEventListener("click", function () {
        setOpen(button, panel, button.getAttribute("aria-expanded") !== "true");
      });
    });
    // Choosing a term in the "Add a variable term" box adds it at once (the user asked for it).
    var add = document.getElementById("term-add-text");
    if (add) {
      add.addEventListener("autocomplete:select", function () {
        var form = document.getElementById("search-form");
        if (form) { form.submit(); }
      });
    }
  });
})();
