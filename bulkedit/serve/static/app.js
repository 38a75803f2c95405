// bulkedit serve: the little the pages need beyond HTML. No library, nothing from outside.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var busy = {"upload": "Uploading and checking…", "plan": "Reading the live values…"};
  Object.keys(busy).forEach(function (kind) {
    var form = document.querySelector("form." + kind);
    if (!form) { return; }
    form.addEventListener("submit", function () {
      var button = form.querySelector("button");
      form.classList.add(kind === "upload" ? "sending" : "busy");
      button.disabled = true;
      button.textContent = busy[kind];
    });
  });
});
// The run page: its counts follow the server's event stream (EventSource reconnects by
// itself, sending the last id it saw); the page reloads once the run is over.
document.addEventListener("DOMContentLoaded", function () {
  var run = document.getElementById("run");
  if (!run || !window.EventSource || run.dataset.state !== "running" && run.dataset.state !== "starting") { return; }
  var source = new EventSource(run.dataset.events);
  function show(event) {
    var now = JSON.parse(event.data);
    document.getElementById("run-state").textContent = now.state;
    document.getElementById("run-seq").textContent = now.seq.toLocaleString("en");
    document.getElementById("run-rows").textContent = now.rows.toLocaleString("en");
    var counts = document.getElementById("run-counts");
    counts.textContent = "";
    Object.keys(now.by_status).sort().forEach(function (status) {
      var dt = document.createElement("dt");
      var dd = document.createElement("dd");
      dt.textContent = status;
      dd.textContent = now.by_status[status].toLocaleString("en");
      dd.dataset.status = status;
      counts.appendChild(dt);
      counts.appendChild(dd);
    });
    if (now.problem) {
      var problem = document.getElementById("run-problem");
      problem.textContent = now.problem;
      problem.hidden = false;
    }
  }
  source.addEventListener("progress", show);
  source.addEventListener("end", function (event) {
    show(event);
    source.close();
    window.location.reload();
  });
});
