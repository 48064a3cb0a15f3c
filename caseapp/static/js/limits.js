// Live character count for fields with a length limit (data-limit): the server refuses an over-long text with a
// message; this only says how far the text is from the limit while it is written. No text is ever cut.
(function () {
  "use strict";
  function update(field, counter) {
    var limit = parseInt(field.getAttribute("data-limit"), 10);
    var used = field.value.length;
    counter.textContent = used.toLocaleString(document.documentElement.lang || "es") + " / " +
      limit.toLocaleString(document.documentElement.lang || "es");
    var over = used > limit;
    counter.classList.toggle("over", over);
    field.setAttribute("aria-invalid", over ? "true" : field.getAttribute("data-server-invalid") || "false");
  }
  document.querySelectorAll("[data-counter-for]").forEach(function (counter) {
    var field = document.getElementById(counter.getAttribute("data-counter-for"));
    if (!field) { return; }
    field.setAttribute("data-server-invalid", field.getAttribute("aria-invalid") || "false");
    field.addEventListener("input", function () { update(field, counter); });
    update(field, counter);
  });
}());
