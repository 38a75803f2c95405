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
