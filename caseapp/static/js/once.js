// A form with a one-time token (data-once="<name of its hidden token field>") is sent once even when she presses
// Back after sending it and sends it again: pages are no-store, so that page comes back from the server with a fresh
// token. The token sent is kept in the history entry of the page it was sent from (history.state), and put back
// only there: a registration form reached anew (a link, or Back to a form never sent) keeps its own fresh token.
(function () {
  "use strict";
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    var field = form.elements[form.getAttribute("data-once")];
    if (!field || !window.history || !window.history.replaceState) { return; }
    var key = "ruta-once:" + form.getAttribute("action");
    function restore() {
      var state = window.history.state;
      if (state && typeof state[key] === "string") { field.value = state[key]; }
    }
    restore();
    window.addEventListener("pageshow", function (event) { if (event.persisted) { restore(); } });
    form.addEventListener("submit", function () {
      var state = {};
      var current = window.history.state;
      if (current && typeof current === "object") {
        Object.keys(current).forEach(function (k) { state[k] = current[k]; });
      }
      state[key] = field.value;
      window.history.replaceState(state, "");
    });
  });
}());
