// Report and dashboard pages: fetch the numbers from the report API, draw them with plotly.js
// (served by the app), filter, drill down to the records behind a point, download PNG, and
// refresh a dashboard on its interval while the tab is visible. Everything the page needs comes
// from the JSON in #rp-config; text from the server is only ever set as textContent.
(function () {
  "use strict";
  const configEl = document.getElementById("rp-config");
  if (!configEl) { return; }
  const config = JSON.parse(configEl.textContent);
  const T = config.text || {};
  const PLOT_OPTIONS = {responsive: true, displaylogo: false, modeBarButtonsToRemove: ["toImage", "sendDataToCloud"]};

  // ---------------------------------------------------------------- small helpers
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  async function getJSON(url) {
    const res = await fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}});
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return {ok: res.ok, status: res.status, data: data};
  }

  function errorText(reply) {
    const body = reply.data || {};
    const err = body.error || {};
    const detail = (body.errors || []).map(function (e) { return e.message; }).filter(function (m) { return m && m !== err.message; });
    return [err.message || (T.failed + " (" + reply.status + ")")].concat(detail).join(" — ");
  }

  function recordUrl(form, id) {
    return config.record_url.replace("{form}", encodeURIComponent(form)).replace("{id}", encodeURIComponent(id));
  }

  function formatValue(value, percent) {
    if (value === null || value === undefined) { return ""; }
    if (typeof value !== "number") { return String(value); }
    if (percent) { return (value * 100).toFixed(2) + "%"; }
    return Number.isInteger(value) ? value.toLocaleString() : value.toLocaleString(undefined, {maximumFractionDigits: 4});
  }

  // The result row behind a clicked point: charts put it in customdata (a pie wraps it in a list);
  // a trace without it (a Pareto's cumulative line) shares the first trace's categories.
  function pointOf(figure, pt) {
    let cd = pt.customdata;
    if (Array.isArray(cd)) { cd = cd[0]; }
    if (cd === undefined || cd === null) {
      const first = (figure.data || [])[0] || {};
      const index = pt.pointIndex !== undefined ? pt.pointIndex : pt.pointNumber;
      cd = Array.isArray(first.customdata) ? first.customdata[index] : undefined;
    }
    if (typeof cd === "number") { return {row: cd}; }
    if (cd && typeof cd === "object") { return cd; }
    return null;
  }

  // compact (a dashboard cell): the cell's heading is the title, and its PNG button replaces the mode bar
  function draw(node, figure, onPoint, compact) {
    const layout = Object.assign({}, figure.layout || {}, {autosize: true});
    delete layout.width;
    delete layout.height;
    // tick labels on a narrow screen (a right-hand % axis) make room instead of being cut off
    Object.keys(layout).forEach(function (name) {
      if (/^[xy]axis\d*$/.test(name)) { layout[name] = Object.assign({automargin: true}, layout[name]); }
    });
    let options = PLOT_OPTIONS;
    if (compact) {
      layout.title = {text: ""};
      layout.margin = Object.assign({}, layout.margin || {}, {t: 12});
      options = Object.assign({}, PLOT_OPTIONS, {displayModeBar: false});
    }
    window.Plotly.react(node, figure.data || [], layout, options);
    if (!node.dataset.bound) {        // one listener; it reads the figure drawn last
      node.dataset.bound = "1";
      node.on("plotly_click", function (event) {
        const pt = event && event.points && event.points[0];
        const point = pt ? pointOf(node._qmsFigure || {}, pt) : null;
        if (point) { onPoint(point); }
      });
    }
    node._qmsFigure = figure;
  }

  // the PNG is drawn from the whole figure (with its title, which a dashboard cell leaves out)
  function png(node, name) {
    const figure = node && node._qmsFigure;
    if (!figure) { return; }
    const width = Math.max(node.offsetWidth, 640);
    const height = Math.max(node.offsetHeight, 420);
    const layout = Object.assign({}, figure.layout || {}, {width: width, height: height});
    window.Plotly.downloadImage({data: figure.data || [], layout: layout},
                                {format: "png", filename: name || "chart", width: width, height: height});
  }

  // ---------------------------------------------------------------- the drill-down panel
  const drill = {
    panel: document.getElementById("rp-drill"),
    show: function (title, found) {
      if (!this.panel) { return; }
      document.getElementById("rp-drill-title").textContent = T.drill_title + " · " + title;
      const list = document.getElementById("rp-drill-list");
      list.replaceChildren();
      const total = found.total || 0;
      const shown = (found.records || []).length;
      let summary = total + " " + T.records;
      if (shown < total) { summary += " (" + T.showing + " " + shown + ")"; }
      document.getElementById("rp-drill-total").textContent = total ? summary : T.no_records;
      (found.records || []).forEach(function (r) {
        const item = el("li");
        const link = el("a", null, r.serial_no || ("#" + r.id));
        link.href = r.url || recordUrl(found.form, r.id);
        item.appendChild(link);
        if (r.title && r.title !== r.serial_no) { item.appendChild(el("span", "rp-rec-title", r.title)); }
        if (r.status) { item.appendChild(el("span", "muted", r.status)); }
        if (r.created_at) { item.appendChild(el("span", "muted", r.created_at.slice(0, 10))); }
        list.appendChild(item);
      });
      this.panel.hidden = false;
      this.panel.scrollIntoView({behavior: "smooth", block: "nearest"});
    },
    fail: function (title, text) {
      this.show(title, {records: [], total: 0});
      document.getElementById("rp-drill-total").textContent = text;
    },
  };
  const closeButton = document.getElementById("rp-drill-close");
  if (closeButton) { closeButton.addEventListener("click", function () { drill.panel.hidden = true; }); }

  // ---------------------------------------------------------------- one report
  function reportPage() {
    const form = document.getElementById("rp-filters");
    const chart = document.getElementById("rp-chart");
    const status = document.getElementById("rp-status");
    const errorBox = document.getElementById("rp-error");
    const exportLink = document.getElementById("rp-export");
    const fieldSelect = document.getElementById("rp-field");
    const fields = {};
    (config.fields || []).forEach(function (f) { fields[f.path] = f; });
    let lastInputs = {filters: []};
    let lastLabel = "";

    function valueInput() { return document.getElementById("rp-value"); }

    // the value box follows the chosen field: a select of its options, else a text box
    function rebuildValue() {
      const box = document.getElementById("rp-value-box");
      if (!box) { return; }
      const f = fields[fieldSelect.value];
      const old = valueInput();
      let next;
      if (f && Array.isArray(f.options)) {
        next = el("select");
        next.appendChild(el("option", null, ""));
        f.options.forEach(function (o) { const opt = el("option", null, o.label); opt.value = String(o.value); next.appendChild(opt); });
      } else {
        next = el("input");
        next.type = "text";
      }
      next.id = "rp-value";
      next.name = "value";
      old.replaceWith(next);
    }
    if (fieldSelect) { fieldSelect.addEventListener("change", rebuildValue); }

    function inputs() {
      const out = {filters: []};
      const from = document.getElementById("rp-from").value;
      const to = document.getElementById("rp-to").value;
      if (from || to) {
        out.period = {from: from || null, to: to || null};
        out.period_field = document.getElementById("rp-date-field").value;
      }
      if (fieldSelect && fieldSelect.value && valueInput().value !== "") {
        const f = fields[fieldSelect.value];
        out.filters.push({field: f.path, op: f.op, value: valueInput().value});
      }
      return out;
    }

    function query(given) {
      const params = new URLSearchParams();
      if (given.filters.length) { params.set("filters", JSON.stringify(given.filters)); }
      if (given.period) {
        if (given.period.from) { params.set("from", given.period.from); }
        if (given.period.to) { params.set("to", given.period.to); }
        params.set("period_field", given.period_field);
      }
      const text = params.toString();
      return text ? "?" + text : "";
    }

    async function load() {
      const given = inputs();
      status.textContent = T.loading;
      const reply = await getJSON(config.data_url + query(given));
      if (!reply.ok) {
        errorBox.textContent = errorText(reply);
        errorBox.hidden = false;
        status.textContent = "";
        return;
      }
      errorBox.hidden = true;
      lastInputs = given;
      lastLabel = reply.data.label || config.key;
      if (exportLink) { exportLink.href = config.export_url + query(given); }
      draw(chart, reply.data.figure, openDrill);
      table(reply.data.data);
      status.textContent = T.updated + " " + new Date().toLocaleTimeString() + (reply.data.data && reply.data.data.truncated ? " · " + T.truncated : "");
    }

    async function openDrill(point, what) {
      const body = Object.assign({point: point}, lastInputs);
      const reply = await window.QMS.postJSON(config.drill_url, body);
      const title = lastLabel + (what ? " · " + what : "");
      if (!reply.ok) { drill.fail(title, errorText(reply)); return; }
      drill.show(title, reply.data);
    }

    function table(data) {
      const node = document.getElementById("rp-table");
      node.replaceChildren();
      if (!data || !data.columns) { return; }
      const head = el("thead");
      const tr = el("tr");
      data.columns.forEach(function (c) { tr.appendChild(el("th", c.kind === "measure" ? "num" : null, c.label)); });
      head.appendChild(tr);
      node.appendChild(head);
      const body = el("tbody");
      const dims = data.columns.filter(function (c) { return c.kind === "dimension"; }).length;
      data.rows.forEach(function (row, i) {
        const line = el("tr", "rp-row");
        line.tabIndex = 0;
        const labels = data.labels[i] || [];
        labels.forEach(function (text) { line.appendChild(el("td", null, text === null ? T.blank : text)); });
        row.slice(dims).forEach(function (value, j) {
          line.appendChild(el("td", "num", formatValue(value, data.columns[dims + j].percent)));
        });
        const open = function () { openDrill({row: i}, labels.join(" · ")); };
        line.addEventListener("click", open);
        line.addEventListener("keydown", function (e) { if (e.key === "Enter") { open(); } });
        body.appendChild(line);
      });
      node.appendChild(body);
    }

    form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
    form.addEventListener("reset", function () { setTimeout(function () { if (fieldSelect) { rebuildValue(); } load(); }, 0); });
    document.getElementById("rp-png").addEventListener("click", function () { png(chart, config.key); });
    load();
  }

  // ---------------------------------------------------------------- one dashboard
  function dashboardPage() {
    const form = document.getElementById("rp-filters");
    const status = document.getElementById("rp-status");
    const exportLink = document.getElementById("rp-export");
    const cells = {};
    const filterNames = {};
    (config.filters || []).forEach(function (f) { filterNames[f.key] = f.label; });
    document.querySelectorAll(".rp-cell[data-report]").forEach(function (cell) { cells[cell.dataset.report] = cell; });
    // place each cell on its grid row (columns come from its classes); a phone stacks them (CSS)
    (config.cells || []).forEach(function (c) {
      const cell = cells[c.report];
      if (cell) { cell.style.gridRow = (c.y + 1) + " / span " + c.h; }
    });
    let lastValues = {};
    let loadedAt = 0;
    let busy = false;

    // every filter's value; a cleared one is sent as "" so that it does not fall back to its default
    function values() {
      const out = {};
      form.querySelectorAll("[data-filter]").forEach(function (input) {
        const key = input.dataset.filter;
        if (input.dataset.part) {
          const range = out[key] && typeof out[key] === "object" ? out[key] : {};
          if (input.value) { range[input.dataset.part] = input.value; }
          out[key] = Object.keys(range).length ? range : "";
        } else {
          out[key] = input.value;
        }
      });
      return out;
    }

    // after a load, show the values in force (a filter's default fills its empty input)
    function fill(filters) {
      (filters || []).forEach(function (f) {
        const value = f.value;
        if (value === null || value === undefined || value === "") { return; }
        form.querySelectorAll('[data-filter="' + CSS.escape(f.key) + '"]').forEach(function (input) {
          if (input.value) { return; }
          if (input.dataset.part) {
            const part = Array.isArray(value) ? value[input.dataset.part === "from" ? 0 : 1] : value[input.dataset.part];
            if (part) { input.value = String(part).slice(0, 10); }
          } else {
            input.value = Array.isArray(value) ? String(value[0]) : String(value);
          }
        });
      });
    }

    // given: the filter values to apply (none: each filter's default)
    async function load(given) {
      if (busy) { return; }
      busy = true;
      given = given || {};
      const query = Object.keys(given).length ? "?values=" + encodeURIComponent(JSON.stringify(given)) : "";
      try {
        const reply = await getJSON(config.data_url + query);
        if (!reply.ok) {
          status.textContent = errorText(reply);
          status.classList.add("rp-bad");
          return;
        }
        status.classList.remove("rp-bad");
        lastValues = given;
        loadedAt = Date.now();
        if (exportLink) { exportLink.href = config.export_url + query; }
        fill(reply.data.filters);
        (reply.data.items || []).forEach(function (item) { show(item); });
        status.textContent = T.updated + " " + new Date().toLocaleTimeString();
      } finally {
        busy = false;
      }
    }

    function show(item) {
      const cell = cells[item.report];
      if (!cell) { return; }
      const errorBox = cell.querySelector(".rp-error");
      const note = cell.querySelector(".rp-note");
      const chart = cell.querySelector(".rp-chart");
      if (item.error || !item.result) {
        errorBox.textContent = item.error || T.failed;
        errorBox.hidden = false;
        chart.hidden = true;
        note.hidden = true;
        return;
      }
      errorBox.hidden = true;
      chart.hidden = false;
      const skipped = (item.not_applied || []).map(function (k) { return filterNames[k] || k; });
      note.textContent = skipped.length ? T.not_applied + skipped.join(", ") : "";
      note.hidden = !skipped.length;
      cell._qmsLabel = item.result.label || item.report;
      draw(chart, item.result.figure, function (point) { openDrill(item.report, point); }, true);
    }

    async function openDrill(report, point) {
      const cell = cells[report];
      const title = (cell && cell._qmsLabel) || report;
      const reply = await window.QMS.postJSON(config.drill_url, {report: report, point: point, values: lastValues});
      if (!reply.ok) { drill.fail(title, errorText(reply)); return; }
      drill.show(title, reply.data);
    }

    Object.keys(cells).forEach(function (report) {
      const cell = cells[report];
      cell.querySelector(".rp-png").addEventListener("click", function () { png(cell.querySelector(".rp-chart"), report); });
      const all = cell.querySelector(".rp-all");
      if (all) { all.addEventListener("click", function () { openDrill(report, {row: 0}); }); }
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); load(values()); });
    form.addEventListener("reset", function () { setTimeout(function () { load({}); }, 0); });

    // auto-refresh: only while the tab is visible; a tab coming back catches up at once
    const every = (config.refresh || 0) * 1000;
    if (every > 0) {
      setInterval(function () { if (!document.hidden) { load(lastValues); } }, every);
      document.addEventListener("visibilitychange", function () {
        if (!document.hidden && Date.now() - loadedAt >= every) { load(lastValues); }
      });
    }
    load({});
  }

  if (document.querySelector("[data-report-page]")) { reportPage(); }
  if (document.querySelector("[data-dashboard-page]")) { dashboardPage(); }
})();
