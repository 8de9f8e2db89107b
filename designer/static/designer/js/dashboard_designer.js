// The dashboard designer (QD.registerEditor("dashboard")): a palette of the tenant's published
// reports, a 12-column grid where each report shows its live mini chart (the runtime's
// /api/v1/reports/<key>/data), moved by dragging its header and resized by its bottom-right
// handle (pointer events; snapped to the grid; overlapped items pushed down by
// dashboard_grid.js), or with the keyboard (arrows move the focused item, Shift+arrows resize,
// Delete removes); the shared filters (date range / field, per-report targets) and the refresh
// interval. Needs report_kit.js and dashboard_grid.js.
(function () {
  "use strict";
  const QD = window.QD = window.QD || {};
  const K = QD.ReportKit, G = QD.DashboardGrid;
  const h = K.h, tr = K.t;
  const ROW = 56, GAP = 8;

  function mount(root, ctx) {
    let def = ctx.definition;
    let choices = null, reports = {}, formFields = {}, shellProblems = [];
    const cells = {};
    const side = h("div", {class: "qdb-side", "data-testid": "dashboard-settings"});
    const grid = h("div", {class: "qdb-grid", "data-testid": "dashboard-grid", "data-path": "/items", role: "list",
      "aria-label": tr("看板网格（12 列）", "Dashboard grid (12 columns)")});
    const help = h("p", {class: "muted qdb-help", text: tr("拖动标题移动，拖动右下角调整大小；选中后方向键移动，Shift+方向键调整大小，Delete 移除。",
      "Drag a header to move, the bottom-right corner to resize; focused: arrows move, Shift+arrows resize, Delete removes.")});
    root.replaceChildren(h("div", {class: "qdb-layout"}, side, h("div", {class: "qdb-main"}, help, grid)));

    function items() { def.items = def.items || []; return def.items; }
    function save(next) {
      def.items = next.map(function (i) { return {report: i.report, x: i.x, y: i.y, w: i.w, h: i.h}; });
      ctx.changed();
    }

    // ---------------------------------------------------------------- the grid
    function layout(list) {
      grid.style.minHeight = (Math.max(G.height(list), 6) * (ROW + GAP)) + "px";
      list.forEach(function (it, i) {
        const cell = cells[it.report];
        if (!cell) { return; }
        cell.node.style.gridColumn = (it.x + 1) + " / span " + it.w;
        cell.node.style.gridRow = (it.y + 1) + " / span " + it.h;
        cell.node.dataset.path = "/items/" + items().indexOf(items().find(function (x) { return x.report === it.report; }));
        cell.node.setAttribute("aria-label", cell.title + " — " + tr("列 ", "column ") + (it.x + 1) + tr("，行 ", ", row ") + (it.y + 1) +
          tr("，宽 ", ", width ") + it.w + tr("，高 ", ", height ") + it.h);
        cell.node.dataset.i = String(i);
      });
    }

    function resized(keys) {
      keys.forEach(function (key) {
        const cell = cells[key];
        if (cell && cell.drawn && window.Plotly) { window.Plotly.Plots.resize(cell.chart); }
      });
    }

    function unit() {
      const width = grid.clientWidth;
      return {col: (width + GAP) / G.COLS, row: ROW + GAP};
    }

    // drag the header (move) or the handle (resize): the layout follows the pointer in grid steps
    function startDrag(key, mode, event) {
      if (event.button !== 0 || event.target.closest("button:not(.qdb-resize)")) { return; }
      event.preventDefault();
      const handle = event.currentTarget;
      handle.setPointerCapture(event.pointerId);
      const base = G.normalize(items());
      const start = base.find(function (i) { return i.report === key; });
      const u = unit(), sx = event.clientX, sy = event.clientY;
      let current = base, last = "";
      cells[key].node.classList.add("qdb-dragging");
      function onMove(e) {
        const dx = Math.round((e.clientX - sx) / u.col), dy = Math.round((e.clientY - sy) / u.row);
        const sig = dx + "," + dy;
        if (sig === last) { return; }
        last = sig;
        current = mode === "move" ? G.move(base, key, start.x + dx, start.y + dy) : G.resize(base, key, start.w + dx, start.h + dy);
        layout(current);
      }
      function onUp() {
        handle.removeEventListener("pointermove", onMove);
        handle.removeEventListener("pointerup", onUp);
        handle.removeEventListener("pointercancel", onUp);
        cells[key].node.classList.remove("qdb-dragging");
        if (last && last !== "0,0") { save(current); resized(current.map(function (i) { return i.report; })); refreshPalette(); }
      }
      handle.addEventListener("pointermove", onMove);
      handle.addEventListener("pointerup", onUp);
      handle.addEventListener("pointercancel", onUp);
    }

    function onKey(key, e) {
      if (e.target !== cells[key].node) { return; }
      const steps = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]}[e.key];
      if (e.key === "Delete" || e.key === "Backspace") { e.preventDefault(); removeReport(key); return; }
      if (!steps) { return; }
      e.preventDefault();
      const base = G.normalize(items());
      const it = base.find(function (i) { return i.report === key; });
      const next = e.shiftKey ? G.resize(base, key, it.w + steps[0], it.h + steps[1]) : G.move(base, key, it.x + steps[0], it.y + steps[1]);
      save(next);
      layout(next);
      resized(next.map(function (i) { return i.report; }));
    }

    function makeCell(key) {
      const info = reports[key];
      const title = info ? K.label(info.label) : key;
      const chart = h("div", {class: "qdb-chart", "data-testid": "mini-chart-" + key});
      const error = h("div", {class: "qdb-cell-error", hidden: true});
      const head = h("div", {class: "qdb-cell-head", title: tr("拖动以移动", "Drag to move")},
        h("span", {class: "qdb-grip", "aria-hidden": "true", text: "⠿"}), h("span", {class: "qdb-title", text: title}),
        h("button", {type: "button", class: "qdb-remove", "data-testid": "remove-" + key, "aria-label": tr("移除 ", "Remove ") + title,
          title: tr("移除", "Remove"), on: {click: function () { removeReport(key); }}}, "×"));
      const handle = h("div", {class: "qdb-resize", "data-testid": "resize-" + key, title: tr("拖动以调整大小", "Drag to resize"), "aria-hidden": "true"});
      const node = h("div", {class: "qdb-item", tabindex: "0", role: "listitem", "data-testid": "item-" + key, "data-report": key},
        head, error, chart, handle);
      head.addEventListener("pointerdown", function (e) { startDrag(key, "move", e); });
      handle.addEventListener("pointerdown", function (e) { startDrag(key, "resize", e); });
      node.addEventListener("keydown", function (e) { onKey(key, e); });
      const cell = cells[key] = {node: node, chart: chart, error: error, title: title, drawn: false};
      if (!info) {
        error.textContent = tr("没有这个已发布的报表", "There is no such published report");
        error.hidden = false;
      } else {
        K.api("GET", choices.report_data_url.replace("{key}", encodeURIComponent(key))).then(function (reply) {
          if (!reply.ok) { error.textContent = K.errorText(reply); error.hidden = false; return; }
          return K.plotly(choices.plotly_url).then(function () { K.draw(chart, reply.data.figure, true); cell.drawn = true; });
        });
      }
      return cell;
    }

    function renderGrid() {
      Object.keys(cells).forEach(function (k) { delete cells[k]; });
      const list = G.normalize(items());
      grid.replaceChildren.apply(grid, list.map(function (it) { return makeCell(it.report).node; }));
      layout(list);
      if (!list.length) {
        grid.appendChild(h("p", {class: "muted qdb-empty", text: tr("从左侧添加报表。", "Add reports from the left.")}));
      }
    }

    function addReport(key) {
      const next = G.add(G.normalize(items()), key, 6, 4);
      save(next);
      renderGrid();
      refreshPalette();
      renderFilters();
      cells[key].node.focus();
    }

    function removeReport(key) {
      const next = G.remove(G.normalize(items()), key);
      (def.filters || []).forEach(function (f) { if (f.targets) { delete f.targets[key]; if (!Object.keys(f.targets).length) { delete f.targets; } } });
      save(next);
      renderGrid();
      refreshPalette();
      renderFilters();
    }

    // ---------------------------------------------------------------- the side panel
    const palette = h("div", {class: "qdb-palette", "data-testid": "report-palette"});
    const search = h("input", {type: "search", class: "qdb-search", "data-testid": "report-search",
      placeholder: tr("搜索报表", "Search reports"), "aria-label": tr("搜索报表", "Search reports")});
    search.addEventListener("input", function () { refreshPalette(); });
    const filtersBox = h("div", {class: "qdb-filters", "data-testid": "dashboard-filters"});

    function refreshPalette() {
      const on = {};
      items().forEach(function (i) { on[i.report] = true; });
      palette.replaceChildren();
      if (!choices.reports.length) { palette.appendChild(h("p", {class: "muted", text: tr("还没有已发布的报表。", "No published reports yet.")})); }
      const words = (search.value || "").trim().toLowerCase();
      choices.reports.filter(function (r) {
        return !words || (r.key + " " + K.label(r.label) + " " + r.form + " " + r.chart).toLowerCase().indexOf(words) >= 0;
      }).forEach(function (r) {
        palette.appendChild(h("button", {type: "button", class: "qdb-add", "data-testid": "add-report-" + r.key, disabled: !!on[r.key],
          title: r.key + " · " + r.form, on: {click: function () { addReport(r.key); }}}, "+ ", K.label(r.label) || r.key,
        h("small", {class: "muted", text: " " + r.chart})));
      });
    }

    // the paths every form on the dashboard offers (for filter fields and per-report targets)
    function loadFormFields() {
      const forms = {};
      items().forEach(function (i) { if (reports[i.report]) { forms[reports[i.report].form] = true; } });
      return Promise.all(Object.keys(forms).map(function (form) {
        return K.fields(ctx, form).then(function (list) { formFields[form] = list; });
      }));
    }

    function unionFields() {
      const seen = {}, out = [];
      Object.keys(formFields).forEach(function (form) {
        formFields[form].forEach(function (f) { if (!seen[f.path] && !f.table) { seen[f.path] = true; out.push(f); } });
      });
      return out;
    }

    function filterRow(f, i) {
      const path = "/filters/" + i;
      const list = def.filters;
      const keyInput = h("input", {type: "text", value: f.key || "", "data-path": path + "/key", "data-testid": "filter-key-" + i,
        "aria-label": tr("筛选标识", "Filter key"), pattern: "[a-z][a-z0-9_]*"});
      keyInput.addEventListener("change", function () { f.key = keyInput.value.trim(); ctx.changed(); });
      const type = h("select", {"data-path": path + "/type", "data-testid": "filter-type-" + i, "aria-label": tr("类型", "Type")},
        h("option", {value: "date_range", text: tr("日期范围", "Date range")}), h("option", {value: "field", text: tr("字段值", "Field value")}));
      type.value = f.type || "field";
      type.addEventListener("change", function () { f.type = type.value; ctx.changed(); renderFilters(); });
      const keep = f.type === "date_range" ? function (x) { return x.date; } : null;
      const field = K.fieldSelect(unionFields(), f.field, keep, {"data-path": path + "/field", "data-testid": "filter-field-" + i,
        "aria-label": tr("字段", "Field")});
      field.addEventListener("change", function () { if (field.value) { f.field = field.value; } else { delete f.field; } ctx.changed(); });
      const targets = h("details", {class: "qdb-targets", "data-path": path + "/targets"},
        h("summary", {text: tr("各报表使用的字段", "Field per report")}));
      items().forEach(function (it) {
        const info = reports[it.report];
        if (!info) { return; }
        const pick = K.fieldSelect(formFields[info.form] || [], (f.targets || {})[it.report], keep,
          {"data-path": path + "/targets/" + it.report, "aria-label": K.label(info.label)});
        pick.options[0].textContent = tr("— 同上（默认）—", "— same as above —");
        pick.addEventListener("change", function () {
          f.targets = f.targets || {};
          if (pick.value) { f.targets[it.report] = pick.value; } else { delete f.targets[it.report]; }
          if (!Object.keys(f.targets).length) { delete f.targets; }
          ctx.changed();
        });
        targets.appendChild(h("label", {class: "qdb-target"}, h("span", {text: K.label(info.label)}), pick));
      });
      const name = K.labelInputs(f.label, function (v) { f.label = v || {"zh-CN": "", en: ""}; ctx.changed(); }, "filter-label-" + i);
      name.dataset.path = path + "/label";
      return h("div", {class: "qdb-filter", "data-path": path, "data-testid": "filter-" + i},
        h("div", {class: "qdb-filter-row"}, keyInput, type, h("button", {type: "button", class: "qr-remove", "data-testid": "remove-filter-" + i,
          "aria-label": tr("删除筛选", "Remove filter"), on: {click: function () {
            list.splice(i, 1);
            if (!list.length) { delete def.filters; }
            ctx.changed();
            renderFilters();
          }}}, "×")), name, field, targets);
    }

    function renderFilters() {
      loadFormFields().then(function () {
        filtersBox.replaceChildren.apply(filtersBox, (def.filters || []).map(filterRow));
        K.markProblems(root, shellProblems);
      });
    }

    function settings() {
      const name = K.labelInputs(def.label, function (v) { def.label = v || {"zh-CN": "", en: ""}; ctx.changed(); }, "dashboard-label");
      name.dataset.path = "/label";
      const refresh = h("input", {type: "number", min: "0", max: "86400", step: "30", value: def.refresh || 0, "data-path": "/refresh",
        "data-testid": "dashboard-refresh", "aria-label": tr("自动刷新（秒）", "Auto-refresh (seconds)")});
      refresh.addEventListener("change", function () {
        const n = parseInt(refresh.value, 10);
        if (n > 0) { def.refresh = n; } else { delete def.refresh; }
        ctx.changed();
      });
      const addFilter = h("button", {type: "button", class: "qr-add", "data-testid": "add-filter", on: {click: function () {
        const n = (def.filters || []).length + 1;
        def.filters = (def.filters || []).concat([{key: "filter_" + n, label: {"zh-CN": "筛选 " + n, en: "Filter " + n}, type: "field"}]);
        ctx.changed();
        renderFilters();
      }}}, "+ " + tr("筛选", "Filter"));
      side.replaceChildren(
        h("section", {class: "qr-section"}, h("label", {class: "qr-option"}, h("span", {text: tr("看板名称", "Dashboard name")}), name),
          h("label", {class: "qr-option"}, h("span", {text: tr("自动刷新（秒，0 = 不刷新，最少 30）", "Auto-refresh (s, 0 = off, at least 30)")}), refresh)),
        h("section", {class: "qr-section"}, h("h3", {text: tr("报表", "Reports")}), search, palette),
        h("section", {class: "qr-section"}, h("h3", null, tr("共享筛选", "Shared filters"), addFilter), filtersBox));
    }

    function start() {
      side.replaceChildren(h("p", {class: "muted", text: tr("正在加载…", "Loading…")}));
      K.choices(ctx).then(function (c) {
        choices = c;
        reports = {};
        c.reports.forEach(function (r) { reports[r.key] = r; });
        settings();
        refreshPalette();
        renderGrid();
        renderFilters();
      }).catch(function (e) { side.replaceChildren(h("p", {class: "qr-error", role: "alert", text: e.message})); });
    }

    start();
    return {
      showProblems: function (list) { shellProblems = list || []; K.markProblems(root, shellProblems); },
      reload: function (definition) { def = ctx.definition = definition; start(); },
    };
  }

  if (QD.registerEditor) { QD.registerEditor("dashboard", {mount: mount}); }
})();
