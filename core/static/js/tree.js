// Lazy ontology tree: a <details class="tree-node" data-children-url="…"> that opens without
// its children fetches them (JSON [{curie, label, obsolete, children, url, children_url,
// datasets?}]) and renders them as nested nodes, built like the server's
// ontologies/_macros.html tree_node.
// Without this file each closed node holds a link to the term page, which lists the children.
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function plural(n) { return n === 1 ? "" : "s"; }

  function termLabel(child) {
    var term = el("span", "tree-term");
    var link = el("a", "", child.label);
    link.href = child.url;
    term.appendChild(link);
    if (child.obsolete) {
      term.appendChild(document.createTextNode(" "));
      term.appendChild(el("span", "badge badge-obsolete", "obsolete"));
    }
    term.appendChild(document.createTextNode(" "));
    term.appendChild(el("span", "tree-curie", child.curie));
    if (child.children) {
      term.appendChild(document.createTextNode(" "));
      var count = el("span", "tree-count", String(child.children));
      count.title = child.children + " narrower term" + plural(child.children);
      count.appendChild(el("span", "visually-hidden", " narrower term" + plural(child.children)));
      term.appendChild(count);
    }
    if (typeof child.datasets === "number") {  // datasets using the term or a narrower one
      term.appendChild(document.createTextNode(" "));
      var used = el("span", "tree-datasets" + (child.datasets ? "" : " is-zero"),
        child.datasets.toLocaleString("en-GB") + " dataset" + plural(child.datasets));
      used.title = used.textContent + (child.datasets === 1 ? " uses" : " use") +
        " this term or a narrower one";
      term.appendChild(used);
    }
    return term;
  }

  // The term first (link, CURIE, counts), then the toggle with the children: a link inside
  // a <summary> would be a control inside a control.
  function node(child) {
    var item = el("li", "tree-item" + (child.obsolete ? " is-obsolete" : ""));
    item.setAttribute("data-curie", child.curie);
    item.appendChild(termLabel(child));
    if (!child.children) {
      return item;
    }
    var details = el("details", "tree-node");
    details.setAttribute("data-children-url", child.children_url);
    var summary = el("summary");
    summary.appendChild(el("span", "visually-hidden", "Narrower terms of " + child.label));
    details.appendChild(summary);
    var fallback = el("p", "tree-fallback");
    var link = el("a", "", "See the " + child.children + " narrower term" + plural(child.children) +
      " of " + child.label);
    link.href = child.url + "#children";
    fallback.appendChild(link);
    details.appendChild(fallback);
    item.appendChild(details);
    return item;
  }

  function load(details) {
    if (details.getAttribute("data-loaded") === "true" || details.getAttribute("aria-busy") === "true") {
      return;
    }
    var url = details.getAttribute("data-children-url");
    if (!url) { return; }
    var fallback = details.querySelector(":scope > .tree-fallback");
    details.querySelectorAll(":scope > .tree-loading").forEach(function (old) { old.remove(); });
    var loading = el("p", "tree-loading", "Loading…");
    loading.setAttribute("role", "status");
    if (fallback) { fallback.hidden = true; }
    details.appendChild(loading);
    details.setAttribute("aria-busy", "true");
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (children) {
        var list = el("ul", "tree");
        children.forEach(function (child) { list.appendChild(node(child)); });
        loading.remove();
        if (fallback) { fallback.remove(); }
        details.appendChild(list);
        details.setAttribute("data-loaded", "true");
        details.removeAttribute("aria-busy");
      })
      .catch(function () {
        loading.textContent = "The narrower terms could not be loaded.";
        loading.className = "tree-loading tree-error";
        if (fallback) { fallback.hidden = false; }
        details.removeAttribute("aria-busy");  // closing and opening again retries
      });
  }

  // "toggle" does not bubble, but a capturing listener sees it for every node, new ones too.
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (details instanceof HTMLDetailsElement && details.open && details.classList.contains("tree-node")) {
      load(details);
    }
  }, true);

  // Nodes that are open when the page loads (a single root, say) and still need their children.
  function loadOpen() {
    document.querySelectorAll("details.tree-node[open]").forEach(load);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", loadOpen);
  } else {
    loadOpen();
  }
})();
