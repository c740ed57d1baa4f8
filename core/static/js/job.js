// The job page: follow the job's JSON resource and update the progress bar; reload the page
// when the job has finished (the server renders its result). Without this file the page
// reloads itself (a <noscript> refresh).
document.addEventListener("DOMContentLoaded", function () {
  var card = document.querySelector("[data-job-url]");
  if (!card) {
    return;
  }
  var url = card.getAttribute("data-job-url");
  function field(name) {
    return card.querySelector('[data-job-field="' + name + '"]');
  }
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (job) {
        if (!job) {
          window.setTimeout(poll, 5000);
          return;
        }
        if (job.state === "succeeded" || job.state === "failed") {
          window.location.reload();
          return;
        }
        var bar = field("bar");
        if (bar) {
          bar.max = job.progress.total || 1;
          bar.value = job.progress.done;
          bar.textContent = job.progress.done + " of " + job.progress.total;
        }
        if (field("state")) {
          field("state").textContent = job.state;
        }
        if (field("phase")) {
          field("phase").textContent = job.progress.phase ? " — " + job.progress.phase : "";
        }
        if (field("percent")) {
          var total = job.progress.total || 0;
          field("percent").textContent =
            (total ? Math.floor((job.progress.done * 100) / total) : 0) + " %";
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 1000);
});
