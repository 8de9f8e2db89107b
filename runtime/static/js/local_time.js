// Times are entered in the browser's zone: fill hidden [data-tz-offset] inputs with its offset
// (minutes east of UTC), and show stored UTC values of input[data-utc] in local time.
(function () {
  "use strict";
  var offset = String(-new Date().getTimezoneOffset());
  document.querySelectorAll("input[data-tz-offset]").forEach(function (input) { input.value = offset; });
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  document.querySelectorAll("input[data-utc]").forEach(function (input) {
    if (!input.value) return;
    var d = new Date(input.value + ":00Z");
    if (isNaN(d)) return;
    input.value = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  });
})();
