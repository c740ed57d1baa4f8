// The application form saves itself: the groups of fields changed since the last save are
// posted every few seconds and when a field loses focus; the status says "Saved 10:42" (or
// what went wrong). Without this script the form's Save button does the same.
(function () {
  "use strict";
  var printButton = document.querySelector("[data-print]");
  if (printButton) {
    printButton.addEventListener("click", function () { window.print(); });
  }
  var form = document.querySelector("form[data-autosave]");
  if (!form) { return; }
  var url = form.getAttribute("data-autosave");
  var status = document.getElementById("autosave-status");
  var dirty = {};
  var saving = false;
  var stopped = false;
  var INTERVAL = 4000;

  function show(text, error) {
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("autosave-error", !!error);
  }

  function groupOf(element) {
    return element && element.getAttribute ? element.getAttribute("data-group") : null;
  }

  function mark(event) {
    var group = groupOf(event.target);
    if (!group || event.target.getAttribute("data-autosave") === "manual") { return; }
    dirty[group] = true;
    show("Unsaved changes");
  }

  function save() {
    var groups = Object.keys(dirty);
    if (saving || stopped || groups.length === 0) { return; }
    var all = new FormData(form);
    var body = new FormData();
    body.append("csrf_token", all.get("csrf_token"));
    body.append("revision", form.elements.revision.value);
    groups.forEach(function (g) { body.append("_groups", g); });
    form.querySelectorAll("[data-group]").forEach(function (element) {
      var group = groupOf(element);
      if (!dirty[group] || !element.name || element.getAttribute("data-autosave") === "manual") { return; }
      if ((element.type === "checkbox" || element.type === "radio") && !element.checked) { return; }
      body.append(element.name, element.value);
    });
    dirty = {};
    saving = true;
    show("Saving…");
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": all.get("csrf_token") }
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      saving = false;
      if (result.status === 200) {
        form.elements.revision.value = result.data.etag;
        show("Saved " + result.data.saved_at);
      } else if (result.status === 412) {
        stopped = true;
        show("Someone changed this request elsewhere: reload the page before you go on.", true);
      } else if (result.status === 422 && result.data.errors) {
        // kept unsaved until the field changes again (saving it as it is fails again)
        var first = Object.keys(result.data.errors)[0];
        show("Not saved — " + first + ": " + result.data.errors[first].join(" "), true);
      } else {
        groups.forEach(function (g) { dirty[g] = true; });
        show("Not saved (" + (result.data.detail || result.status) + "); it is tried again.", true);
      }
    }).catch(function () {
      saving = false;
      groups.forEach(function (g) { dirty[g] = true; });
      show("Not saved: the connection failed; it is tried again.", true);
    });
  }

  form.addEventListener("input", mark);
  form.addEventListener("change", mark);
  form.addEventListener("focusout", function () { save(); });
  form.addEventListener("submit", function () { stopped = true; });
  window.setInterval(save, INTERVAL);
})();
