/* "Log touch" links from coverage pages carry ?channel=…: preselect it in the account page's quick
   log form and bring the form into view, so covering an account is one click and a save. */
(function () {
  "use strict";
  var channel = new URLSearchParams(window.location.search).get("channel");
  if (!channel) return;
  var select = document.querySelector(".quicklog-form select[name=channel]");
  if (!select) return;
  if (Array.prototype.some.call(select.options, function (o) { return o.value === channel; })) {
    select.value = channel;
  }
  select.focus();
})();
