// bulkedit serve: the little the pages need beyond HTML. No library, nothing from outside.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.upload");
  if (!form) { return; }
  form.addEventListener("submit", function () {
    var button = form.querySelector("button");
    form.classList.add("sending");
    button.disabled = true;
    button.textContent = "Uploading and checking…";
  });
});
