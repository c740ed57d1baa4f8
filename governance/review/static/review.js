// The review page: after a refused decision, the error summary takes the focus so that a
// keyboard or screen-reader user starts from the list of what to fix. Works without it too.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
});
