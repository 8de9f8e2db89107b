// Record list, detail and import-progress pages: column chooser (remembered per user and form in
// localStorage), export links carrying the chosen columns, delete confirmation, job polling.
(function () {
  "use strict";

  function chooser() {
    const box = document.querySelector(".column-chooser");
    const table = document.querySelector("table[data-columns]");
    if (!box) return;
    const key = box.dataset.storageKey;
    const boxes = Array.from(box.querySelectorAll("input[type=checkbox]"));
    let saved = null;
    try { saved = JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { saved = null; }
    if (Array.isArray(saved)) boxes.forEach(function (b) { b.checked = saved.indexOf(b.value) >= 0; });

    function chosen() { return boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; }); }
    function apply() {
      const on = new Set(chosen());
      if (table) table.querySelectorAll("[data-col]").forEach(function (cell) { cell.hidden = !on.has(cell.dataset.col); });
      document.querySelectorAll("a[data-export]").forEach(function (a) {
        const url = new URL(a.href, window.location.href);
        url.searchParams.set("cols", Array.from(on).join(","));
        a.href = url.pathname + url.search;
      });
    }
    boxes.forEach(function (b) {
      b.addEventListener("change", function () {
        try { window.localStorage.setItem(key, JSON.stringify(chosen())); } catch (e) { /* private mode */ }
        apply();
      });
    });
    const reset = box.querySelector("[data-reset-columns]");
    if (reset) reset.addEventListener("click", function () {
      boxes.forEach(function (b) { b.checked = b.hasAttribute("data-default"); });
      try { window.localStorage.removeItem(key); } catch (e) { /* ignore */ }
      apply();
    });
    apply();
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
      });
    });
    document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
  }

  function jobPolling() {
    const box = document.querySelector("[data-job-url]");
    if (!box) return;
    const $ = function (sel) { return box.querySelector(sel); };
    function show(job) {
      $("[data-job-status]").textContent = box.dataset["text" + job.status.charAt(0).toUpperCase() + job.status.slice(1)] || job.status;
      const bar = $("[data-job-bar]");
      bar.max = Math.max(job.total, 1);
      bar.value = job.status === "done" ? bar.max : job.done;
      $("[data-job-count]").textContent = job.done + " / " + job.total;
      const r = job.result || {};
      if (job.status === "done") {
        $("[data-job-result]").textContent = ["created", "updated", "unchanged", "skipped"].map(function (k) {
          return box.dataset["text" + k.charAt(0).toUpperCase() + k.slice(1)] + " " + (r[k] || 0);
        }).join(" · ");
      }
      if (job.error) { const e = $("[data-job-error]"); e.hidden = false; e.textContent = job.error; }
      const list = $("[data-job-problems]");
      list.textContent = "";
      (r.problems || []).slice(0, 200).forEach(function (p) {
        const li = document.createElement("li");
        li.textContent = "#" + p.row + (p.column ? " · " + p.column : "") + ": " + p.message;
        list.appendChild(li);
      });
    }
    async function poll() {
      try {
        const res = await fetch(box.dataset.jobUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}});
        if (res.ok) {
          const job = await res.json();
          show(job);
          if (job.status === "done" || job.status === "failed") return;
        }
      } catch (e) { /* network hiccup: try again */ }
      window.setTimeout(poll, 1000);
    }
    poll();
  }

  chooser();
  confirmations();
  jobPolling();
})();
