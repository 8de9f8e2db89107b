// Approval pages: open and close the action dialogs, reopen the one with an error, select all
// tasks for a batch approval, confirm before withdrawing, auto-submit the inbox filters.
(function () {
  "use strict";

  function show(dialog) {
    if (!dialog) return;
    if (typeof dialog.showModal !== "function") { dialog.setAttribute("open", ""); return; }
    if (dialog.open) dialog.close();
    dialog.showModal();
    const first = dialog.querySelector(".has-error input, .has-error select, .has-error textarea") ||
      dialog.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  function dialogs() {
    document.querySelectorAll("[data-open]").forEach(function (button) {
      button.addEventListener("click", function () { show(document.getElementById(button.dataset.open)); });
    });
    document.querySelectorAll("dialog").forEach(function (dialog) {
      dialog.querySelectorAll("[data-close]").forEach(function (button) {
        button.addEventListener("click", function () { dialog.close(); });
      });
      dialog.addEventListener("click", function (ev) {     // a tap on the backdrop closes it
        if (ev.target === dialog) dialog.close();
      });
      dialog.querySelectorAll("form").forEach(function (form) {   // no double submission on a slow phone
        form.addEventListener("submit", function () {
          window.setTimeout(function () {
            form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
          }, 0);
        });
      });
    });
    const again = document.querySelector("dialog[data-autoopen]");
    if (again) show(again);
  }

  function selectAll() {
    const all = document.querySelector("[data-select-all]");
    const boxes = Array.from(document.querySelectorAll('input[name="task"][form="batch-form"]'));
    const button = document.querySelector("[data-batch-button]");
    const count = document.querySelector("[data-selected-count]");
    function update() {
      const n = boxes.filter(function (b) { return b.checked; }).length;
      if (button) button.disabled = n === 0;
      if (count) count.textContent = n ? "(" + n + ")" : "";
      if (all) {
        all.checked = n > 0 && n === boxes.length;
        all.indeterminate = n > 0 && n < boxes.length;
        all.disabled = boxes.length === 0;
      }
    }
    if (all) all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      update();
    });
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    update();
  }

  function small() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
      });
    });
    document.querySelectorAll("[data-autosubmit]").forEach(function (input) {
      input.addEventListener("change", function () { input.form.submit(); });
    });
  }

  dialogs();
  selectAll();
  small();
})();
