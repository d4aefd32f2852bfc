// Polls an import job's progress and reloads the page when the job has finished. No libraries.
(function () {
  "use strict";
  var panel = document.querySelector("[data-progress-url]");
  if (!panel) return;
  var url = panel.getAttribute("data-progress-url");
  var bar = panel.querySelector("progress");
  var text = panel.querySelector("[data-progress-text]");
  var status = document.getElementById("import-status");

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (job) {
        bar.max = job.total || 1;
        bar.value = job.processed;
        text.textContent = job.processed + " / " + job.total;
        if (status) status.textContent = job.status_label;
        if (job.running) {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 500);
})();
