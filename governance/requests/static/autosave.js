// The application form saves itself: the groups of fields changed since the last save are
// posted every few seconds and when a field loses focus, one save at a time; changes made
// while a save is on its way are sent right after it. The status says "Saved 10:42" only when
// nothing is left to save (else "Unsaved changes", or what went wrong). Leaving the page with
// changes pending sends them (a keepalive request) and asks the browser to warn; the Save and
// Submit buttons wait for the save on its way and post the form with the revision it produced
// (the server refuses a post with an older one as stale). Without this script the form's
// buttons save everything, as before.
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
  var dirty = {};      // group → true: changed since it was last sent
  var refused = {};    // group → message: refused (422) as it is; kept until it changes again
  var inFlight = null; // the promise of the save on its way
  var stopped = false; // a stale revision: nothing more is sent
  var submitting = false;
  var soon = null;
  var INTERVAL = 4000; // the regular round
  var SOON = 600;      // a change left over after a save goes this soon

  function show(text, error) {
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("autosave-error", !!error);
  }

  function pending() { return Object.keys(dirty).length > 0; }

  function firstRefusal() {
    var groups = Object.keys(refused);
    return groups.length ? refused[groups[0]] : null;
  }

  function groupOf(element) {
    return element && element.getAttribute ? element.getAttribute("data-group") : null;
  }

  function mark(event) {
    var group = groupOf(event.target);
    if (!group || event.target.getAttribute("data-autosave") === "manual" || stopped) { return; }
    dirty[group] = true;
    delete refused[group];
    if (!inFlight) { show(firstRefusal() || "Unsaved changes", !!firstRefusal()); }
  }

  function later() {
    if (soon === null) { soon = window.setTimeout(function () { soon = null; save(); }, SOON); }
  }

  function settled(savedAt) {
    // what the status says once a save is answered: "Saved" only when nothing is left
    var refusal = firstRefusal();
    if (refusal) {
      show(refusal, true);
    } else if (pending()) {
      show("Unsaved changes");
    } else if (savedAt) {
      show("Saved " + savedAt);
    }
    if (pending()) { later(); }
  }

  function body(groups) {
    var all = new FormData(form);
    var data = new FormData();
    data.append("csrf_token", all.get("csrf_token"));
    data.append("revision", form.elements.revision.value);
    groups.forEach(function (g) { data.append("_groups", g); });
    form.querySelectorAll("[data-group]").forEach(function (element) {
      var group = groupOf(element);
      if (groups.indexOf(group) < 0 || !element.name || element.getAttribute("data-autosave") === "manual") { return; }
      if ((element.type === "checkbox" || element.type === "radio") && !element.checked) { return; }
      data.append(element.name, element.value);
    });
    return data;
  }

  // Send the changed groups (one save at a time); the promise resolves when it is answered.
  function save(keepalive) {
    if (inFlight) { return inFlight; }
    var groups = Object.keys(dirty);
    if (stopped || groups.length === 0) { return Promise.resolve(); }
    var data = body(groups);
    dirty = {};
    show("Saving…");
    var request;
    try {
      request = fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        keepalive: !!keepalive,
        headers: { "Accept": "application/json", "X-CSRFToken": data.get("csrf_token") }
      });
    } catch (error) {
      request = Promise.reject(error);
    }
    inFlight = request.then(function (response) {
      return response.json().then(function (answer) { return { status: response.status, data: answer }; });
    }).then(function (result) {
      inFlight = null;
      if (result.status === 200) {
        form.elements.revision.value = result.data.etag;
        settled(result.data.saved_at);
      } else if (result.status === 412) {
        stopped = true;
        show("Someone changed this request elsewhere: reload the page before you go on.", true);
      } else if (result.status === 422 && result.data.errors) {
        // the groups named in the errors stay unsaved until they change again (saving them as
        // they are fails again); the others of this save go again with the next one
        var errors = result.data.errors;
        var named = {};
        Object.keys(errors).forEach(function (field) {
          var group = field.split(/[.\[]/)[0];
          if (groups.indexOf(group) >= 0 && !named[group]) {
            named[group] = "Not saved — " + field + ": " + errors[field].join(" ");
          }
        });
        if (Object.keys(named).length === 0) {
          var first = Object.keys(errors)[0];
          groups.forEach(function (g) { named[g] = "Not saved — " + first + ": " + errors[first].join(" "); });
        }
        groups.forEach(function (g) {
          if (named[g]) { if (!dirty[g]) { refused[g] = named[g]; } } else { dirty[g] = true; }
        });
        settled(null);
      } else {
        groups.forEach(function (g) { dirty[g] = true; });
        show("Not saved (" + (result.data.detail || result.status) + "); it is tried again.", true);
      }
    }).catch(function () {
      inFlight = null;
      groups.forEach(function (g) { dirty[g] = true; });
      show("Not saved: the connection failed; it is tried again.", true);
    });
    return inFlight;
  }

  // Wait for the save on its way, then send what is left (at most one more round).
  function flush() {
    return Promise.resolve(inFlight).then(function () {
      return pending() ? save() : null;
    });
  }

  form.addEventListener("input", mark);
  form.addEventListener("change", mark);
  form.addEventListener("focusout", function () { save(); });

  form.addEventListener("submit", function (event) {
    if (submitting) { return; } // the post this handler started: let it go
    event.preventDefault();
    if (form.getAttribute("data-posting")) { return; } // a second click while waiting
    form.setAttribute("data-posting", "1");
    var submitter = event.submitter || null;
    if (soon !== null) { window.clearTimeout(soon); soon = null; }
    flush().then(function () {
      // a task of its own: while the submit event is being dispatched a new submission is
      // silently ignored (and with nothing to wait for we would still be inside it)
      window.setTimeout(post, 0);
    });

    function post() {
      // the post carries every field, and the revision of the last save
      submitting = true;
      stopped = true;
      if (submitter && form.requestSubmit) {
        form.requestSubmit(submitter);
      } else {
        if (submitter && submitter.name) {
          var carried = document.createElement("input");
          carried.type = "hidden";
          carried.name = submitter.name;
          carried.value = submitter.value;
          form.appendChild(carried);
        }
        form.submit();
      }
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (submitting || stopped || (!pending() && !inFlight)) { return; }
    save(true); // sent even if the page goes (keepalive); a save on its way goes first
    event.preventDefault();
    event.returnValue = ""; // the browser's own "Leave site? Changes may not be saved"
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && pending()) { save(true); }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { // back to a page kept by the browser after its post: saving again
      submitting = false;
      stopped = false;
      form.removeAttribute("data-posting");
    }
  });
  window.setInterval(function () { save(); }, INTERVAL);
})();
