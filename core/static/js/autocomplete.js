// Term autocomplete: turns <input data-autocomplete="/api/v1/terms"> into an ARIA 1.2 combobox.
// Progressive enhancement: without this file the input is a plain search field in a GET form.
//
// Attributes on the input:
//   data-autocomplete          the term search endpoint (answers {items: [...]})
//   data-ontology              only terms of this ontology prefix (optional)
//   data-ontology-field        id of a <select>/<input> whose value filters by ontology (optional)
//   data-autocomplete-target   id of a hidden input: choosing a term writes its CURIE there and its
//                              label into this input (otherwise choosing opens the term page)
//   data-term-base             where term pages live (default "/terms/")
//   data-autocomplete-min      letters before searching (default 2)
//   data-autocomplete-limit    how many suggestions (default 10)
// The input fires "autocomplete:select" with detail {curie, label, term} when a term is chosen.
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;
  var counter = 0;
  var HINTS = {
    identifier: "identifier",
    exact_label: "exact label",
    exact_synonym: "exact synonym",
    prefix: "starts with",
    word_prefix: "word starts with",
    fuzzy: "similar spelling"
  };
  var SYNONYM_KINDS = { exact: "exact synonym", related: "related synonym", abbreviation: "abbreviation" };

  // The same normalisation as ontologies/text.py, enough to find which name matched.
  var GREEK = { "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "κ": "kappa", "λ": "lambda", "μ": "mu" };
  function normalise(text) {
    var lower = String(text).toLowerCase().replace(/[αβγδκλμ]/g, function (ch) { return GREEK[ch]; });
    return lower.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^0-9a-z]+/g, " ").trim();
  }
  function nameMatches(text, matched) {
    var name = normalise(text);
    return name === matched || name.replace(/ /g, "") === matched || name.endsWith(" " + matched);
  }

  // Which synonym (if not the label) produced the hit, and a short hint of how it matched.
  function describe(item) {
    var hint = HINTS[item.match] || item.match || "";
    var synonym = null;
    if (item.match !== "identifier" && item.matched && !nameMatches(item.label, item.matched)) {
      (item.synonyms || []).some(function (s) {
        if (nameMatches(s.text, item.matched)) { synonym = s; return true; }
        return false;
      });
    }
    if (synonym && item.match === "exact_synonym" && synonym.type === "abbreviation") {
      hint = "abbreviation";
    }
    return { hint: hint, synonym: synonym };
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function termUrl(base, curie) {
    return base + encodeURIComponent(curie).replace(/%3A/gi, ":");
  }

  function enhance(input) {
    if (input.getAttribute("role") === "combobox") { return; }
    counter += 1;
    var id = input.id || "autocomplete-" + counter;
    input.id = id;
    var endpoint = input.getAttribute("data-autocomplete");
    var targetId = input.getAttribute("data-autocomplete-target");
    var termBase = input.getAttribute("data-term-base") || "/terms/";
    var minLength = parseInt(input.getAttribute("data-autocomplete-min") || "2", 10);
    var limit = parseInt(input.getAttribute("data-autocomplete-limit") || "10", 10);

    var wrapper = el("div", "ac");
    // Moving a focused input blurs it: someone who started typing before this script ran
    // (a slow connection) would lose the rest of their keystrokes, so the focus and the caret
    // go back where they were.
    var hadFocus = document.activeElement === input;
    var caret = hadFocus ? input.selectionStart : null;
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);
    if (hadFocus) {
      input.focus();
      if (caret !== null) { input.setSelectionRange(caret, caret); }
    }
    var listbox = el("ul", "ac-listbox");
    listbox.id = id + "-listbox";
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-label", "Matching terms");
    listbox.hidden = true;
    var empty = el("div", "ac-empty");
    empty.hidden = true;
    empty.setAttribute("aria-hidden", "true");
    var status = el("div", "visually-hidden");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    wrapper.appendChild(listbox);
    wrapper.appendChild(empty);
    wrapper.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    input.setAttribute("autocomplete", "off");

    var items = [];
    var active = -1;
    var timer = null;
    var controller = null;
    var lastQuery = null;

    function ontologyFilter() {
      var fieldId = input.getAttribute("data-ontology-field");
      var field = fieldId ? document.getElementById(fieldId) : null;
      return (field && field.value) || input.getAttribute("data-ontology") || "";
    }

    function setActive(index) {
      var options = listbox.querySelectorAll("[role=option]");
      if (active >= 0 && options[active]) { options[active].setAttribute("aria-selected", "false"); }
      active = index;
      if (active >= 0 && options[active]) {
        options[active].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", options[active].id);
        options[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function open() {
      if (!items.length) { return; }
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      listbox.hidden = true;
      empty.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    function render(query, found) {
      items = found;
      listbox.textContent = "";
      active = -1;
      input.removeAttribute("aria-activedescendant");
      found.forEach(function (item, index) {
        var info = describe(item);
        var option = el("li", "ac-option" + (item.obsolete ? " is-obsolete" : ""));
        option.id = id + "-option-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-curie", item.curie);
        var first = el("span", "ac-line");
        first.appendChild(el("span", "ac-label", item.label));
        first.appendChild(el("span", "ac-hint", info.hint));
        option.appendChild(first);
        var second = el("span", "ac-line ac-meta");
        second.appendChild(el("span", "ac-curie", item.curie));
        if (info.synonym) {
          var kind = SYNONYM_KINDS[info.synonym.type] || "synonym";
          var synonym = el("span", "ac-synonym", "“" + info.synonym.text + "”");
          synonym.title = kind;
          second.appendChild(synonym);
        }
        if (item.obsolete) { second.appendChild(el("span", "badge badge-obsolete", "obsolete")); }
        option.appendChild(second);
        option.addEventListener("click", function () { choose(index); });
        listbox.appendChild(option);
      });
      if (found.length) {
        empty.hidden = true;
        open();
        status.textContent = found.length + (found.length === 1 ? " term" : " terms") +
          " found. Use the up and down arrows to choose, Enter to open.";
      } else {
        close();
        empty.textContent = "No term matches “" + query + "”.";
        empty.hidden = false;
        status.textContent = "No term matches.";
      }
    }

    function search() {
      var query = input.value.trim();
      var ontology = ontologyFilter();
      var key = query + "\u0000" + ontology;
      if (query.length < minLength) {
        lastQuery = null;
        items = [];
        listbox.textContent = "";
        close();
        status.textContent = "";
        return;
      }
      if (key === lastQuery) { open(); return; }
      lastQuery = key;
      if (controller) { controller.abort(); }
      controller = new AbortController();
      var url = endpoint + "?q=" + encodeURIComponent(query) + "&limit=" + limit +
        (ontology ? "&ontology=" + encodeURIComponent(ontology) : "");
      input.setAttribute("aria-busy", "true");
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal: controller.signal })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.json();
        })
        .then(function (body) {
          input.removeAttribute("aria-busy");
          if (lastQuery === key) { render(query, body.items || []); }
        })
        .catch(function (error) {
          if (error && error.name === "AbortError") { return; }
          input.removeAttribute("aria-busy");
          lastQuery = null;
          items = [];
          close();
          empty.textContent = "Suggestions are unavailable; press Enter to search.";
          empty.hidden = false;
          status.textContent = "Suggestions are unavailable.";
        });
    }

    function choose(index) {
      var item = items[index];
      if (!item) { return; }
      var detail = { curie: item.curie, label: item.label, term: item };
      close();
      var target = targetId ? document.getElementById(targetId) : null;
      if (target) {
        target.value = item.curie;
        target.dispatchEvent(new Event("change", { bubbles: true }));
        input.value = item.label;
        lastQuery = null;
        items = [];
        listbox.textContent = "";
        status.textContent = item.label + " (" + item.curie + ") chosen.";
        input.dispatchEvent(new CustomEvent("autocomplete:select", { bubbles: true, detail: detail }));
        return;
      }
      var proceed = input.dispatchEvent(
        new CustomEvent("autocomplete:select", { bubbles: true, cancelable: true, detail: detail })
      );
      if (proceed) { window.location.assign(termUrl(termBase, item.curie)); }
    }

    input.addEventListener("input", function () {
      if (targetId) {
        var target = document.getElementById(targetId);
        if (target && target.value) {
          target.value = "";  // the text no longer names the chosen term
          target.dispatchEvent(new Event("change", { bubbles: true }));
        }
      }
      setActive(-1);  // a suggestion for the old text must not be chosen by Enter
      window.clearTimeout(timer);
      timer = window.setTimeout(search, DEBOUNCE_MS);
    });

    input.addEventListener("keydown", function (event) {
      var expanded = !listbox.hidden;
      switch (event.key) {
        case "ArrowDown":
          event.preventDefault();
          if (!expanded) {
            if (items.length) { open(); } else { search(); return; }
            if (event.altKey) { return; }
          }
          setActive(active + 1 >= items.length ? 0 : active + 1);
          break;
        case "ArrowUp":
          event.preventDefault();
          if (!expanded) { open(); }
          setActive(active <= 0 ? items.length - 1 : active - 1);
          break;
        case "Enter":
          if (expanded && active >= 0) {
            event.preventDefault();
            choose(active);
          }
          break;  // otherwise the form is submitted: the search page lists every match
        case "Escape":
          if (expanded || !empty.hidden) {
            event.preventDefault();
            close();
          } else if (input.value) {
            event.preventDefault();
            input.value = "";
            lastQuery = null;
            items = [];
            listbox.textContent = "";
          }
          break;
        case "Tab":
          close();
          break;
        default:
          break;
      }
    });

    // Clicking an option must not take the focus from the input first.
    listbox.addEventListener("mousedown", function (event) { event.preventDefault(); });
    input.addEventListener("blur", function () { close(); });
    input.addEventListener("focus", function () {
      if (items.length && input.value.trim().length >= minLength) { open(); }
    });
    var ontologyFieldId = input.getAttribute("data-ontology-field");
    var ontologyField = ontologyFieldId ? document.getElementById(ontologyFieldId) : null;
    if (ontologyField) {
      ontologyField.addEventListener("change", function () { lastQuery = null; items = []; });
    }
  }

  function enhanceAll(root) {
    (root || document).querySelectorAll("input[data-autocomplete]").forEach(enhance);
  }

  window.HarmonyAutocomplete = { enhance: enhance, enhanceAll: enhanceAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhanceAll(); });
  } else {
    enhanceAll();
  }
})();
