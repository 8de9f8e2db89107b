// The report designer (QD.registerEditor("report")): on the left the report's name, its form, the
// chart type (a grid built from the server's chart registry) with that chart's options, and the
// dataset (report_dataset.js); on the right the live chart of the draft on the tenant's real data
// (POST /designer/api/reports/preview, debounced after every change) with its data table, or
// what is still missing when the draft is incomplete. Needs report_kit.js and report_dataset.js.
(function () {
  "use strict";
  const QD = window.QD = window.QD || {};
  const K = QD.ReportKit, D = QD.ReportDataset;
  const h = K.h, tr = K.t;
  const SVG = "http://www.w3.org/2000/svg";
  // small pictures of the chart families (an unknown type gets the bar picture)
  const ICONS = {
    bar: "M3 21V11h4v10zm7 0V5h4v16zm7 0v-7h4v7z", stacked_bar: "M3 21v-6h4v6zm0-7V9h4v5zm7 7V11h4v10zm0-11V4h4v6zm7 11v-4h4v4zm0-5v-5h4v5z",
    line: "M2 18l6-7 5 4 9-11", stacked_area: "M2 20V14l6-5 5 3 9-7v15z", pie: "M12 3a9 9 0 1 0 9 9h-9z M14 1v9h9a9 9 0 0 0-9-9z",
    pareto: "M3 21V7h4v14zm6 0v-9h4v9zm6 0v-5h4v5z M3 6l8-3 10-1", funnel: "M2 4h20l-6 8v6l-8 3v-9z",
    gauge: "M3 17a9 9 0 0 1 18 0 M12 17l5-6", kpi: "M4 6h16v12H4z M8 14l3-4 2 2 3-4", table: "M3 4h18v16H3z M3 9h18 M3 14h18 M9 4v16",
    pivot: "M3 4h18v16H3z M3 9h18 M9 4v16 M15 9v11", histogram: "M2 21v-4h3v4zm4 0v-9h3v9zm4 0V5h3v16zm4 0v-8h3v8zm4 0v-3h3v3z",
    xbar_r: "M2 5h20 M2 19h20 M2 12l4-3 4 5 4-6 4 4 4-2", imr: "M2 5h20 M2 19h20 M2 14l4-5 4 6 4-4 4 2 4-5",
  };

  function icon(key) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", ICONS[key] || (/^(xbar_s|p|np|c|u)$/.test(key) ? ICONS.xbar_r : ICONS.bar));
    svg.appendChild(path);
    return svg;
  }

  function mount(root, ctx) {
    let def = ctx.definition;
    let choices = null, fields = [], seq = 0, shellProblems = [], attached = [];
    const stash = {};                      // dimensions/measures kept while an SPC chart is chosen
    const side = h("div", {class: "qr-side", "data-testid": "report-settings"});
    const chartNode = h("div", {class: "qr-chart", "data-testid": "report-chart", role: "img", "aria-label": tr("图表预览", "Chart preview")});
    const status = h("div", {class: "qr-status muted", "data-testid": "report-status", role: "status", "aria-live": "polite"});
    const errorBox = h("div", {class: "qr-error", "data-testid": "report-error", role: "alert", hidden: true});
    const tableNode = h("table", {class: "qr-table", "data-testid": "report-table"});
    const main = h("div", {class: "qr-main"}, h("div", {class: "qr-main-head"}, h("h2", {text: tr("实时预览（真实数据）", "Live preview (real data)")}), status),
      errorBox, chartNode, h("div", {class: "qr-table-wrap"}, tableNode));
    root.replaceChildren(h("div", {class: "qr-layout"}, side, main));

    function ds() { def.dataset = def.dataset || {form: ""}; return def.dataset; }
    function chartType() { return choices && def.chart ? choices.charts.find(function (c) { return c.key === def.chart.type; }) : null; }

    const env = {ctx: ctx, ds: ds, chart: chartType, fields: fields, choices: null,
      changed: function (rerender) { ctx.changed(); if (rerender) { render(); } refresh(); },
      attachExpr: function (input, expect) {
        if (!ctx.expr || !ctx.expr.attach) { return; }
        attached.push(ctx.expr.attach(input, {form: function () { return ds().form; }, table: null, expect: expect, tryIt: false}));
      }};

    // ---------------------------------------------------------------- the preview
    const refresh = K.debounce(run, 450);

    function run() {
      const mine = ++seq;
      if (!ds().form) { showError(tr("请先选择表单", "Choose a form first"), []); return; }
      status.textContent = tr("正在更新…", "Updating…");
      K.api("POST", K.root(ctx) + "/api/reports/preview", {definition: def}).then(function (reply) {
        if (mine !== seq) { return; }
        if (!reply.ok) {
          const data = reply.data || {};
          showError(reply.status === 422 ? tr("草稿尚不完整：", "The draft is not complete yet:") : K.errorText(reply), data.problems || data.errors || []);
          return;
        }
        errorBox.hidden = true;
        chartNode.classList.remove("qr-stale");
        K.markProblems(side, shellProblems);
        return K.plotly(choices.plotly_url).then(function () {
          if (mine !== seq) { return; }
          K.draw(chartNode, reply.data.figure, false);
          K.table(tableNode, reply.data.data);
          const rows = reply.data.data && reply.data.data.rows ? reply.data.data.rows.length : 0;
          status.textContent = tr("已更新 ", "Updated ") + new Date().toLocaleTimeString() + " · " + rows + tr(" 行 · ", " row(s) · ") + reply.data.ms + " ms";
        });
      }).catch(function (e) { if (mine === seq) { showError(tr("预览失败：", "Preview failed: ") + e.message, []); } });
    }

    function showError(title, problems) {
      status.textContent = "";
      errorBox.replaceChildren(h("strong", {text: title}));
      if (problems.length) {
        const list = h("ul");
        problems.forEach(function (p) { list.appendChild(h("li", null, p.message, p.path ? h("code", {text: " " + K.pointer(p.path)}) : null)); });
        errorBox.appendChild(list);
      }
      errorBox.hidden = false;
      chartNode.classList.add("qr-stale");
      K.markProblems(side, shellProblems.concat(problems));
    }

    // ---------------------------------------------------------------- the settings
    function setForm(key) {
      if (key === ds().form) { return; }
      def.dataset = {form: key};
      if (!chartType() || chartType().uses_dataset) { def.dataset.measures = [{agg: "count", key: "count"}]; }
      loadFields().then(function () { env.changed(true); });
    }

    function setChart(key) {
      const next = choices.charts.find(function (c) { return c.key === key; });
      const old = def.chart || {};
      const kept = {type: key};
      next.options.forEach(function (o) { if (old[o.name] !== undefined) { kept[o.name] = old[o.name]; } });
      def.chart = kept;
      const d = ds();
      if (!next.uses_dataset) {
        ["dimensions", "measures", "sort"].forEach(function (name) { if (d[name]) { stash[name] = d[name]; delete d[name]; } });
      } else {
        ["dimensions", "measures", "sort"].forEach(function (name) { if (!d[name] && stash[name]) { d[name] = stash[name]; } });
        if ((d.measures || []).length < next.measures[0]) { d.measures = (d.measures || []).concat([{agg: "count", key: "count"}]); }
      }
      env.changed(true);
    }

    function chartPicker() {
      const grid = h("div", {class: "qr-chart-grid", role: "group", "aria-label": tr("图表类型", "Chart type")});
      ["basic", "quality"].forEach(function (group) {
        grid.appendChild(h("div", {class: "qr-chart-group", text: group === "basic" ? tr("常用图表", "Business charts") : tr("质量图表", "Quality charts")}));
        choices.charts.filter(function (c) { return c.group === group; }).forEach(function (c) {
          const needs = c.uses_dataset ? tr("维度 ", "dims ") + c.dimensions.join("–") + tr("，度量 ", ", measures ") + c.measures.join("–")
            : tr("由选项分组", "grouped by its options");
          const on = def.chart && def.chart.type === c.key;
          grid.appendChild(h("button", {type: "button", class: "qr-chart-btn" + (on ? " on" : ""), "aria-pressed": on ? "true" : "false",
            "data-testid": "chart-" + c.key, title: K.label(c.label) + " — " + needs, on: {click: function () { setChart(c.key); }}},
          icon(c.key), h("span", {text: K.label(c.label)})));
        });
      });
      return h("section", {class: "qr-section", "data-path": "/chart/type"}, h("h3", {text: tr("图表类型", "Chart type")}), grid);
    }

    function optionInput(o) {
      const chart = def.chart;
      const s = o.schema || {};
      const path = "/chart/" + o.name;
      const set = function (value) { if (value === undefined || value === "" || value === null) { delete chart[o.name]; } else { chart[o.name] = value; } env.changed(false); };
      const attrs = {"data-path": path, "data-testid": "chart-option-" + o.name, "aria-label": K.label(o.label)};
      let input;
      if (s.type === "boolean") {
        input = h("input", Object.assign({type: "checkbox", checked: !!chart[o.name]}, attrs));
        input.addEventListener("change", function () { set(input.checked ? true : undefined); });
        return h("label", {class: "qr-option qr-check"}, input, K.label(o.label));
      }
      if (s.format === "path") {
        input = K.fieldSelect(fields, chart[o.name], null, attrs);
        input.addEventListener("change", function () { set(input.value); });
      } else if (s.format === "label") {
        input = K.labelInputs(chart[o.name], function (v) { set(v || undefined); });
        input.dataset.path = path;
      } else if (s.enum) {
        input = h("select", attrs, h("option", {value: "", text: "—"}));
        s.enum.filter(function (v) { return v !== null; }).forEach(function (v) { input.appendChild(h("option", {value: String(v), text: String(v)})); });
        input.value = chart[o.name] === undefined ? "" : String(chart[o.name]);
        input.addEventListener("change", function () { set(input.value || undefined); });
      } else if (s.type === "number" || s.type === "integer") {
        input = h("input", Object.assign({type: "number", step: s.type === "integer" ? "1" : "any", value: chart[o.name] === undefined ? "" : chart[o.name]}, attrs));
        input.addEventListener("change", function () { set(input.value === "" ? undefined : Number(input.value)); });
      } else if (s.type === "string") {
        input = h("input", Object.assign({type: "text", class: "qr-expr", value: chart[o.name] || ""}, attrs));
        input.addEventListener("input", function () { set(input.value.trim() ? input.value : undefined); });
        env.attachExpr(input, "boolean");
      } else if (s.type === "array" && s.items && s.items.format === "path") {
        input = K.fieldSelect(fields, null, null, Object.assign({multiple: true, size: "4"}, attrs));
        input.firstChild.remove();
        Array.prototype.forEach.call(input.options, function (opt) { opt.selected = (chart[o.name] || []).indexOf(opt.value) >= 0; });
        input.addEventListener("change", function () {
          const picked = Array.prototype.filter.call(input.options, function (opt) { return opt.selected; }).map(function (opt) { return opt.value; });
          set(picked.length ? picked : undefined);
        });
      } else {                              // subgroup, rules, limits, bands: JSON, checked on the server
        input = h("textarea", Object.assign({rows: "2", class: "qr-json", placeholder: "JSON"}, attrs));
        input.value = chart[o.name] === undefined ? "" : JSON.stringify(chart[o.name]);
        input.addEventListener("change", function () {
          if (!input.value.trim()) { set(undefined); return; }
          try { set(JSON.parse(input.value)); input.classList.remove("qk-bad"); } catch (e) {
            input.classList.add("qk-bad");
            input.title = tr("不是有效的 JSON", "Not valid JSON");
          }
        });
      }
      return h("label", {class: "qr-option"}, h("span", {text: K.label(o.label) + (o.required ? " *" : "")}), input);
    }

    function chartOptions() {
      const c = chartType();
      if (!c || !c.options.length) { return null; }
      const body = h("div", {class: "qr-options"});
      c.options.forEach(function (o) { body.appendChild(optionInput(o)); });
      return h("section", {class: "qr-section", "data-testid": "chart-options", "data-path": "/chart"},
        h("h3", {text: tr("图表选项", "Chart options")}), body);
    }

    function header() {
      const formSelect = h("select", {"data-testid": "report-form", "data-path": "/dataset/form", "aria-label": tr("表单", "Form")},
        h("option", {value: "", text: tr("— 选择表单 —", "— choose a form —")}));
      (ctx.forms || ctx.config.forms || []).forEach(function (f) { formSelect.appendChild(h("option", {value: f.key, text: K.label(f.label) + " · " + f.key})); });
      formSelect.value = ds().form || "";
      formSelect.addEventListener("change", function () { setForm(formSelect.value); });
      const name = K.labelInputs(def.label, function (v) { def.label = v || {"zh-CN": "", en: ""}; ctx.changed(); refresh(); }, "report-label");
      name.dataset.path = "/label";
      return h("section", {class: "qr-section"},
        h("label", {class: "qr-option"}, h("span", {text: tr("报表名称", "Report name")}), name),
        h("label", {class: "qr-option"}, h("span", {text: tr("数据来源表单", "Form (data source)")}), formSelect));
    }

    function render() {
      attached.forEach(function (a) { if (a && a.destroy) { a.destroy(); } });
      attached = [];
      env.fields = fields;
      const parts = [header(), chartPicker(), chartOptions()];
      if (ds().form) {
        const c = chartType();
        if (!c || c.uses_dataset) { parts.push(D.dimensions(env), D.measures(env)); }
        parts.push(D.filters(env));
        if (!c || c.uses_dataset) { parts.push(D.sortLimit(env)); }
      }
      side.replaceChildren.apply(side, parts.filter(Boolean));
      K.markProblems(side, shellProblems);
    }

    function loadFields() {
      return K.fields(ctx, ds().form).then(function (list) { fields = list; });
    }

    function start() {
      side.replaceChildren(h("p", {class: "muted", text: tr("正在加载…", "Loading…")}));
      return K.choices(ctx).then(function (c) {
        choices = env.choices = c;
        def.chart = def.chart || {type: "bar"};
        return loadFields();
      }).then(function () { render(); run(); }).catch(function (e) {
        side.replaceChildren(h("p", {class: "qr-error", role: "alert", text: e.message}));
      });
    }

    start();
    return {
      showProblems: function (list) { shellProblems = list || []; if (choices) { K.markProblems(side, shellProblems); } },
      reload: function (definition) { def = ctx.definition = definition; start(); },
      beforePublish: function () { return true; },
    };
  }

  if (QD.registerEditor) { QD.registerEditor("report", {mount: mount}); }
})();
