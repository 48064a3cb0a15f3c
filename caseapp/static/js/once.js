// A form with a one-time token (data-once="<name of its hidden token field>") is sent once even when she presses
// Back after sending it and sends it again: the page then comes back from the server (pages are no-store) with a
// fresh token, so the token this tab last sent is put back and the server answers with what that token created.
(function () {
  "use strict";
  var nav = (window.performance && performance.getEntriesByType) ? performance.getEntriesByType("navigation")[0] : null;
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    var field = form.elements[form.getAttribute("data-once")];
    if (!field) { return; }
    var key = "ruta-once:" + form.getAttribute("action");
    function restore(fromHistory) {
      var sent = null;
      try { sent = window.sessionStorage.getItem(key); } catch (e) { return; }
      if (fromHistory && sent) { field.value = sent; }
    }
    restore(nav && nav.type === "back_forward");
    window.addEventListener("pageshow", function (event) { if (event.persisted) { restore(true); } });
    form.addEventListener("submit", function () {
      try { window.sessionStorage.setItem(key, field.value); } catch (e) { /* storage off: the server still dedupes a reload */ }
    });
  });
}());
