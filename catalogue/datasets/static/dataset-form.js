// The dataset form, enhanced: the diseases become removable chips, and a term chosen in the
// autocomplete (core/static/js/autocomplete.js) is added as a chip. Without this file the
// chips are checkboxes and a typed name or CURIE is resolved by the server.
(function () {
  "use strict";

  function announce(region, text) {
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 30);
  }

  function enhanceChips(list, input, region) {
    var empty = list.parentNode.querySelector(".chips-empty");
    list.classList.add("is-enhanced");

    function refresh() {
      if (empty) { empty.hidden = list.querySelector(".chip") !== null; }
    }

    function addRemoveButton(chip) {
      if (chip.querySelector(".chip-remove")) { return; }
      var label = chip.querySelector(".chip-label");
      var name = label ? label.textContent : "this disease";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "chip-remove";
      button.setAttribute("aria-label", "Remove " + name);
      button.textContent = "×";
      button.addEventListener("click", function () {
        chip.parentNode.removeChild(chip);
        refresh();
        announce(region, name + " removed.");
        input.focus();
      });
      chip.appendChild(button);
    }

    function addChip(curie, label) {
      var existing = list.querySelector('input[name="diseases"][value="' + CSS.escape(curie) + '"]');
      if (existing) {
        announce(region, label + " is chosen already.");
        return;
      }
      var index = list.querySelectorAll(".chip").length + 1;
      while (document.getElementById("disease-" + index)) { index += 1; }
      var chip = document.createElement("li");
      chip.className = "chip";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.id = "disease-" + index;
      box.name = "diseases";
      box.value = curie;
      box.checked = true;
      var text = document.createElement("label");
      text.setAttribute("for", box.id);
      var name = document.createElement("span");
      name.className = "chip-label";
      name.textContent = label;
      var code = document.createElement("span");
      code.className = "chip-curie";
      code.textContent = curie;
      text.appendChild(name);
      text.appendChild(document.createTextNode(" "));
      text.appendChild(code);
      chip.appendChild(box);
      chip.appendChild(text);
      list.appendChild(chip);
      addRemoveButton(chip);
      refresh();
      announce(region, label + " added.");
    }

    list.querySelectorAll(".chip").forEach(addRemoveButton);
    input.addEventListener("autocomplete:select", function (event) {
      addChip(event.detail.curie, event.detail.label);
      input.value = "";
      var target = document.getElementById(input.getAttribute("data-autocomplete-target"));
      if (target) { target.value = ""; }
    });
    refresh();
  }

  function init() {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
    var list = document.querySelector("[data-chips]");
    var input = document.getElementById("disease_add");
    if (list && input) {
      var region = document.createElement("div");
      region.className = "visually-hidden";
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      list.parentNode.appendChild(region);
      enhanceChips(list, input, region);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
