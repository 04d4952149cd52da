// Live progress of a batch's jobs and label files on its admin page.
// Polls the section's progress.json while work is queued or running: counts and bars are
// updated in place; when a job or a file changes state the page is reloaded, so the
// server renders the forms and links of the new state. Without JavaScript the page's
// reload link does the same by hand.
(function () {
  "use strict";
  var section = document.querySelector("[data-progress-url]");
  if (!section || !window.fetch) return;
  var url = section.getAttribute("data-progress-url");
  var lang = document.documentElement.lang || undefined;
  var number = new Intl.NumberFormat(lang);
  var INTERVAL = 2000;

  function update(row, job) {
    var issued = row.querySelector("[data-issued]");
    var bar = row.querySelector("td > [data-progress]");
    if (issued) issued.textContent = number.format(job.issued);
    if (bar) bar.value = job.issued;
    var label = row.querySelector("[data-state-label]");
    if (label && job.state_label) label.textContent = job.state_label;
    Object.keys(job.renders).forEach(function (fmt) {
      var item = row.querySelector('[data-render="' + fmt + '"] [data-progress]');
      if (item) item.value = job.renders[fmt].done;
    });
  }

  function changed(row, job) {
    if (row.getAttribute("data-state") !== job.state) return true;
    return Object.keys(job.renders).some(function (fmt) {
      var item = row.querySelector('[data-render="' + fmt + '"]');
      return item && item.getAttribute("data-state") !== job.renders[fmt].state;
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        var reload = false;
        data.jobs.forEach(function (job) {
          var row = section.querySelector('[data-job="' + job.id + '"]');
          if (!row) { reload = true; return; }
          if (changed(row, job)) reload = true;
          else update(row, job);
        });
        if (reload) window.location.reload();
        else if (data.active) window.setTimeout(poll, INTERVAL);
      })
      .catch(function () {
        // signed out or offline: the reload link still works
      });
  }

  if (section.hasAttribute("data-active")) window.setTimeout(poll, INTERVAL);
})();
