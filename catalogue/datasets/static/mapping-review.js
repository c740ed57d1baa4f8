// The mapping review table, for the keyboard: j/k (or the arrow keys on a row) move, a accepts,
// r rejects, o or Enter opens the "another term" picker, Esc goes back to the row. The row
// forms are sent with fetch (CSRF token in a header) and the row changes in place; every answer
// carries the dataset's new ETag, which replaces the one in all forms of the page.
// Progressive enhancement: without this file each button is a plain form.
(function () {
  "use strict";

  var STATUS_LABELS = { suggested: "Suggested", accepted: "Accepted", rejected: "Rejected" };

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function isTyping(element) {
    if (!element) { return false; }
    var tag = element.tagName;
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || element.isContentEditable;
  }

  function init() {
    var table = document.querySelector("[data-review]");
    var status = document.getElementById("review-status");
    var help = document.getElementById("shortcuts");
    if (help) { help.hidden = false; }
    var active = null;

    function rows() {
      return table ? Array.prototype.slice.call(table.querySelectorAll("tr[data-row]")) : [];
    }

    function say(text) {
      if (!status) { return; }
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 30);
    }

    function activate(row, focus) {
      if (active) { active.classList.remove("is-active"); active.removeAttribute("aria-current"); }
      active = row;
      if (!row) { return; }
      row.classList.add("is-active");
      row.setAttribute("aria-current", "true");
      if (focus !== false) {
        row.focus({ preventScroll: true });
        row.scrollIntoView({ block: "nearest" });
      }
    }

    function move(step) {
      var all = rows();
      if (!all.length) { return; }
      var index = active ? all.indexOf(active) : -1;
      var next = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
      activate(all[next]);
    }

    function nextOpen(from) {
      var all = rows();
      var start = from ? all.indexOf(from) + 1 : 0;
      for (var i = start; i < all.length; i += 1) {
        var s = all[i].getAttribute("data-status");
        if (s === "suggested" || s === "unmapped") { return all[i]; }
      }
      return null;
    }

    function setEtag(etag) {
      if (!etag) { return; }
      document.querySelectorAll('input[name="revision"]').forEach(function (input) { input.value = etag; });
    }

    function showError(row, text) {
      say(text);
      if (!row) { return; }
      var cell = row.querySelector(".review-actions");
      var note = cell.querySelector(".row-error");
      if (!note) {
        note = document.createElement("p");
        note.className = "row-error field-error";
        cell.appendChild(note);
      }
      note.textContent = text;
    }

    function update(row, mapping) {
      var state = mapping.status;
      row.setAttribute("data-status", state);
      row.setAttribute("data-mapping", String(mapping.id));
      var badge = row.querySelector("[data-status-badge]");
      if (badge) {
        badge.textContent = STATUS_LABELS[state] || state;
        badge.className = "badge badge-status badge-mapping-" + state;
      }
      var cell = row.querySelector(".term-cell");
      var code = cell ? cell.querySelector(".chip-curie") : null;
      if (cell && (!code || code.textContent !== mapping.object_id)) {
        cell.textContent = "";
        cell.classList.remove("muted");
        var link = document.createElement("a");
        link.className = "term-label";
        link.href = mapping.object_url;
        link.textContent = mapping.object_label || mapping.object_id;
        code = document.createElement("span");
        code.className = "chip-curie";
        code.textContent = mapping.object_id;
        cell.appendChild(link);
        cell.appendChild(document.createTextNode(" "));
        cell.appendChild(code);
        // a term chosen by a person: no score, and the reason is who chose it
        var scoreCell = row.querySelector(".score-cell");
        if (scoreCell && mapping.confidence === null) {
          scoreCell.textContent = "";
          var none = document.createElement("span");
          none.className = "muted";
          none.textContent = "—";
          scoreCell.appendChild(none);
        }
        var reason = row.querySelector(".reason");
        if (reason) { reason.textContent = mapping.reason || ("chosen by " + (mapping.author || "you")); }
      }
      // the buttons the reviewer may use now: the answer's actions (the workflow's table)
      var actions = mapping.actions || [];
      row.querySelectorAll("button[data-action]").forEach(function (button) {
        var allowed = actions.indexOf(button.getAttribute("data-action")) >= 0;
        button.disabled = !allowed;
        if (button.hasAttribute("data-hide-unavailable")) { button.form.hidden = !allowed; }
      });
      var note = row.querySelector(".row-error");
      if (note) { note.parentNode.removeChild(note); }
      var picker = row.querySelector("details[data-picker]");
      if (picker) { picker.open = false; }
      if (state === "accepted") {
        // the subject's other suggestions were alternatives: the service withdrew them
        var subject = row.getAttribute("data-subject");
        rows().forEach(function (other) {
          if (other !== row && other.getAttribute("data-subject") === subject &&
              other.getAttribute("data-status") === "suggested") {
            other.parentNode.removeChild(other);
          }
        });
      }
      row.classList.add("is-" + state);
    }

    function send(form) {
      var row = form.closest("tr[data-row]");
      var body = new FormData(form);
      form.setAttribute("aria-busy", "true");
      fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() }
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { ok: response.ok, status: response.status, data: data };
        });
      }).then(function (result) {
        form.removeAttribute("aria-busy");
        if (!result.ok) {
          var errors = result.data.errors || {};
          var messages = [];
          Object.keys(errors).forEach(function (key) { messages = messages.concat(errors[key]); });
          var text = messages.join(" ") || result.data.detail || "That did not work (" + result.status + ").";
          if (result.status === 412) { text = "Someone changed this dataset meanwhile; reload the page."; }
          showError(row, text);
          return;
        }
        setEtag(result.data.etag);
        if (row) { update(row, result.data.mapping); }
        say(result.data.message);
        var next = nextOpen(row);
        activate(next || row);
      }).catch(function () {
        form.removeAttribute("aria-busy");
        showError(row, "The server could not be reached; nothing was changed.");
      });
    }

    document.querySelectorAll("form[data-row-action]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        send(form);
      });
      var input = form.querySelector("input[data-autocomplete]");
      if (input) {
        input.addEventListener("autocomplete:select", function () {
          if (form.requestSubmit) { form.requestSubmit(); } else { send(form); }
        });
        input.addEventListener("keydown", function (event) {
          if (event.key === "Escape" && input.getAttribute("aria-expanded") !== "true" && !input.value) {
            var row = form.closest("tr[data-row]");
            var details = form.closest("details");
            if (details) { details.open = false; }
            if (row) { activate(row); }
          }
        });
      }
    });

    function openPicker(row) {
      var details = row.querySelector("details[data-picker]");
      if (!details) { return; }
      details.open = true;
      var input = details.querySelector("input[data-autocomplete]");
      if (input) { input.focus(); }
    }

    function press(row, key) {
      var button = row.querySelector('button[data-key="' + key + '"]');
      if (!button || button.disabled) { return; }
      if (button.form.requestSubmit) { button.form.requestSubmit(); } else { send(button.form); }
    }

    rows().forEach(function (row) {
      row.addEventListener("click", function (event) {
        if (!event.target.closest("a, button, input, select, summary, label")) { activate(row); }
      });
    });

    document.addEventListener("keydown", function (event) {
      if (!table || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) { return; }
      var onRow = event.target.matches && event.target.matches("tr[data-row]");
      switch (event.key) {
        case "j":
          event.preventDefault(); move(1); break;
        case "k":
          event.preventDefault(); move(-1); break;
        case "ArrowDown":
          if (onRow) { event.preventDefault(); move(1); }
          break;
        case "ArrowUp":
          if (onRow) { event.preventDefault(); move(-1); }
          break;
        case "a":
          if (active) { event.preventDefault(); press(active, "a"); }
          break;
        case "r":
          if (active) { event.preventDefault(); press(active, "r"); }
          break;
        case "o":
          if (active) { event.preventDefault(); openPicker(active); }
          break;
        case "Enter":
          if (onRow && active) { event.preventDefault(); openPicker(active); }
          break;
        default:
          break;
      }
    });

    var first = nextOpen(null);
    if (first) { activate(first, false); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
