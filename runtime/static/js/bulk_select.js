// Record list: "select all on this page" and the selected count; without JavaScript the row
// boxes still work. The count's wording comes from data-selected-text ("{n} selected").
(function () {
  "use strict";
  var boxes = Array.from(document.querySelectorAll('input[name="ids"][form="bulk-form"]'));
  var alls = Array.from(document.querySelectorAll("[data-select-all]"));
  var buttons = Array.from(document.querySelectorAll("[data-bulk-button]"));
  var count = document.querySelector("[data-selected-count]");
  var text = (count && count.getAttribute("data-selected-text")) || "{n}";
  document.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
  function update() {
    var n = boxes.filter(function (b) { return b.checked; }).length;
    buttons.forEach(function (b) { b.disabled = n === 0; });
    if (count) count.textContent = n ? text.replace("{n}", n) : "";
    alls.forEach(function (a) { a.checked = n > 0 && n === boxes.length; a.indeterminate = n > 0 && n < boxes.length; });
  }
  alls.forEach(function (a) {
    a.addEventListener("change", function () { boxes.forEach(function (b) { b.checked = a.checked; }); update(); });
  });
  boxes.forEach(function (b) { b.addEventListener("change", update); });
  update();
})();
