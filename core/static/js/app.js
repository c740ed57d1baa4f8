// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Ask before irreversible actions (forms marked data-confirm).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
  // Copy buttons (e.g. a new API token).
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (target && navigator.clipboard) {
        navigator.clipboard.writeText(target.textContent.trim()).then(function () {
          button.textContent = "Copied";
        });
      }
    });
  });
  // Show the scope field that fits the chosen role (organisation or committee).
  document.querySelectorAll("select[data-role-select]").forEach(function (select) {
    var form = select.form;
    function update() {
      var role = select.value;
      form.querySelectorAll("[data-scope]").forEach(function (field) {
        var scope = field.getAttribute("data-scope");
        var show = (scope === "organisation" && role === "custodian") ||
          (scope === "committee" && (role === "dac_member" || role === "dac_chair"));
        field.hidden = !show;
      });
    }
    select.addEventListener("change", update);
    update();
  });
  // The header's menus (native <details>): Escape closes the open one and gives the focus
  // back to its summary; a click outside, or opening the other menu, closes it too.
  var menus = Array.prototype.slice.call(document.querySelectorAll("details.nav-menu"));
  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (!menu.open) { return; }
      menus.forEach(function (other) { if (other !== menu) { other.open = false; } });
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        event.preventDefault();
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });
  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) {
      if (menu.open && !menu.contains(event.target)) { menu.open = false; }
    });
  });
});
