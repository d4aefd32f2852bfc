/* Behaviour every page shares, bound here rather than in inline handlers so that the
   Content-Security-Policy can forbid inline script:
   - <select data-autosubmit> submits its form when changed (the workspace switcher, the CSM picker);
     a <noscript> button does the same without JavaScript.
   - <form data-confirm="question"> asks before it submits (deleting a segment).
   - <button data-copy="#field"> copies the field's text (an invitation link). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-autosubmit]") && field.form) {
      field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    var field = button && document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).catch(function () { /* selected: the user copies */ });
    } else {
      document.execCommand("copy");
    }
  });
})();
