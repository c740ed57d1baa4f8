// The harmonisation matrix's form, enhanced: a term chosen in the autocomplete
// (core/static/js/autocomplete.js) is added to the matrix at once. Without this file the page
// is a plain GET form: the typed name or CURIE is resolved by the server.
(function () {
  "use strict";

  function init() {
    var form = document.getElementById("matrix-form");
    var input = document.getElementById("term_add");
    var pick = document.getElementById("term_pick");
    if (!form || !input || !pick) { return; }
    input.addEventListener("autocomplete:select", function () {
      if (!pick.value) { return; }
      input.value = "";  // the chosen CURIE travels in the hidden "terms" field
      input.disabled = true;  // so that term_add is not sent too
      form.submit();
    });
    // Empty fields must not add empty values to the matrix's address.
    form.addEventListener("submit", function () {
      if (!pick.value) { pick.disabled = true; }
      ["term_add", "dataset_add"].forEach(function (id) {
        var field = document.getElementById(id);
        if (field && !field.value.trim()) { field.disabled = true; }
      });
      var set = document.getElementById("set");
      if (set && !set.value) { set.disabled = true; }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
