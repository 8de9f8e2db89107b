// Rule pages: filters submit on change; copy buttons copy the text of their target.
(function () {
  "use strict";
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form && el.form.submit(); });
  });
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      const target = document.getElementById(button.getAttribute("data-copy"));
      if (!target) { return; }
      const text = target.textContent;
      const done = function () { const old = button.textContent; button.textContent = button.getAttribute("data-done") || "✓";
        setTimeout(function () { button.textContent = old; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done);
      } else {      // plain http: select the text and copy it the old way
        const range = document.createRange(); range.selectNodeContents(target);
        const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
        try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
      }
    });
  });
})();
