// What the report and dashboard designers share (window.QD.ReportKit): the choices from the
// server's registries (/designer/api/report-choices), the paths a form offers
// (/designer/api/report-fields/<form>), plotly.js loaded once from where the runtime serves it,
// drawing a figure the way the runtime's report pages do, the data table, a safe element builder
// (text only ever set as textContent) and the field picker.
(function () {
  "use strict";
  const QD = window.QD = window.QD || {};
  const cache = {choices: null, fields: {}, plotly: null};

  function tr(zh, en) { return QD.t ? QD.t(zh, en) : ((QD.lang || document.documentElement.lang || "zh-CN").indexOf("en") === 0 ? en : zh); }
  function lbl(obj) {
    if (obj === null || obj === undefined) { return ""; }
    if (typeof obj === "string") { return obj; }
    if (QD.label) { return QD.label(obj); }
    return tr(obj["zh-CN"] || obj.en || "", obj.en || obj["zh-CN"] || "");
  }

  // h("div", {class: "x", dataset: {path: "/a"}, on: {click: fn}, "data-testid": "y"}, child, "text", ...)
  function h(tag, attrs) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      const value = attrs[name];
      if (value === null || value === undefined || value === false) { return; }
      if (name === "class") { node.className = value; } else if (name === "text") { node.textContent = String(value); }
      else if (name === "on") { Object.keys(value).forEach(function (ev) { node.addEventListener(ev, value[ev]); }); }
      else if (name === "dataset") { Object.assign(node.dataset, value); }
      else if (name === "value" || name === "checked" || name === "disabled" || name === "selected") { node[name] = value; }
      else { node.setAttribute(name, value === true ? "" : String(value)); }
    });
    for (let i = 2; i < arguments.length; i++) {
      const child = arguments[i];
      if (child === null || child === undefined || child === false) { continue; }
      node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return node;
  }

  function api(method, url, body) {
    if (QD.api) { return QD.api(method, url, body); }
    const token = (document.querySelector('meta[name="csrf-token"]') || {}).content;
    const init = {method: method, credentials: "same-origin", headers: {"Accept": "application/json"}};
    if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    if (token && method !== "GET") { init.headers["X-CSRFToken"] = token; }
    return fetch(url, init).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) { return {ok: res.ok, status: res.status, data: data}; });
    }, function () { return {ok: false, status: 0, data: null}; });
  }

  // "/x/designer/api/drafts/report/k" -> "/x/designer"
  function root(ctx) {
    const urls = (ctx.config && ctx.config.urls) || {};
    const draft = urls.draft || "/designer/api/drafts";
    return draft.replace(/\/api\/drafts.*$/, "");
  }

  function choices(ctx) {
    if (!cache.choices) {
      cache.choices = api("GET", root(ctx) + "/api/report-choices").then(function (reply) {
        if (!reply.ok) { cache.choices = null; throw new Error(errorText(reply)); }
        return reply.data;
      });
    }
    return cache.choices;
  }

  function fields(ctx, form) {
    if (!form) { return Promise.resolve([]); }
    if (!cache.fields[form]) {
      cache.fields[form] = api("GET", root(ctx) + "/api/report-fields/" + encodeURIComponent(form)).then(function (reply) {
        if (!reply.ok) { delete cache.fields[form]; return []; }
        return reply.data.fields || [];
      });
    }
    return cache.fields[form];
  }

  function plotly(url) {
    if (window.Plotly) { return Promise.resolve(window.Plotly); }
    if (!cache.plotly) {
      cache.plotly = new Promise(function (resolve, reject) {
        const s = document.createElement("script");
        s.src = url;
        s.onload = function () { resolve(window.Plotly); };
        s.onerror = function () { cache.plotly = null; reject(new Error("plotly.js")); };
        document.head.appendChild(s);
      });
    }
    return cache.plotly;
  }

  function errorText(reply) {
    const body = reply.data || {};
    const err = body.error || {};
    const detail = (body.errors || []).map(function (e) { return e.message; }).filter(function (m) { return m && m !== err.message; });
    return [err.message || (tr("加载失败", "Could not load") + " (" + reply.status + ")")].concat(detail).join(" — ");
  }

  // as the runtime draws (static/js/reports.js): responsive, automargins; compact = no title / mode bar
  function draw(node, figure, compact) {
    const layout = Object.assign({}, figure.layout || {}, {autosize: true});
    delete layout.width;
    delete layout.height;
    Object.keys(layout).forEach(function (name) {
      if (/^[xy]axis\d*$/.test(name)) { layout[name] = Object.assign({automargin: true}, layout[name]); }
    });
    const options = {responsive: true, displaylogo: false, displayModeBar: !compact,
      modeBarButtonsToRemove: ["toImage", "sendDataToCloud"]};
    if (compact) {
      layout.title = {text: ""};
      layout.margin = Object.assign({}, layout.margin || {}, {t: 8, l: 36, r: 12, b: 28});
      layout.showlegend = false;
    }
    return window.Plotly.react(node, figure.data || [], layout, options);
  }

  function formatValue(value, percent) {
    if (value === null || value === undefined) { return ""; }
    if (typeof value !== "number") { return String(value); }
    if (percent) { return (value * 100).toFixed(2) + "%"; }
    return Number.isInteger(value) ? value.toLocaleString() : value.toLocaleString(undefined, {maximumFractionDigits: 4});
  }

  function table(node, data) {
    node.replaceChildren();
    if (!data || !data.columns) { return; }
    const dims = data.columns.filter(function (c) { return c.kind === "dimension"; }).length;
    node.appendChild(h("thead", null, h.apply(null, ["tr", null].concat(data.columns.map(function (c) {
      return h("th", {class: c.kind === "measure" ? "num" : null, text: c.label});
    })))));
    const body = h("tbody");
    (data.rows || []).slice(0, 200).forEach(function (row, i) {
      const line = h("tr");
      (data.labels[i] || []).forEach(function (text) { line.appendChild(h("td", {text: text === null ? tr("（空）", "(blank)") : text})); });
      row.slice(dims).forEach(function (value, j) {
        line.appendChild(h("td", {class: "num", text: formatValue(value, data.columns[dims + j].percent)}));
      });
      body.appendChild(line);
    });
    node.appendChild(body);
  }

  // a <select> of the form's paths, grouped (record, sub-tables, references, system); keep(f) filters
  function fieldSelect(list, value, keep, attrs) {
    const select = h("select", attrs);
    select.appendChild(h("option", {value: "", text: tr("— 选择字段 —", "— choose a field —")}));
    const groups = {};
    list.filter(function (f) { return !keep || keep(f); }).forEach(function (f) {
      const name = f.system ? tr("系统字段", "System") : f.table ? tr("子表 ", "Sub-table ") + f.table
        : f.via ? tr("引用 ", "Via ") + f.via : tr("字段", "Fields");
      if (!groups[name]) { groups[name] = h("optgroup", {label: name}); select.appendChild(groups[name]); }
      groups[name].appendChild(h("option", {value: f.path, text: lbl(f.label) + " · " + f.path}));
    });
    if (value && !list.some(function (f) { return f.path === value; })) {
      select.appendChild(h("option", {value: value, text: value + " " + tr("（不可用）", "(not available)")}));
    }
    select.value = value || "";
    return select;
  }

  function debounce(fn, ms) {
    let timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  // JSON pointer or "$.a.b[0]" -> "/a/b/0"
  function pointer(path) {
    if (!path) { return ""; }
    if (path.charAt(0) === "/") { return path; }
    const body = path.replace(/^\$/, "").replace(/\[(\d+)\]/g, ".$1");
    return "/" + body.split(".").filter(Boolean).join("/");
  }

  // the deepest element whose data-path is the problem's path or a prefix of it gets the message
  function markProblems(root, problems) {
    root.querySelectorAll(".qk-bad").forEach(function (node) { node.classList.remove("qk-bad"); node.removeAttribute("title"); });
    root.querySelectorAll(".qk-problem").forEach(function (node) { node.remove(); });
    const unplaced = [];
    (problems || []).forEach(function (p) {
      let path = pointer(p.path);
      let target = null;
      while (path && !target) {
        target = root.querySelector('[data-path="' + CSS.escape(path) + '"]');
        path = path.replace(/\/[^/]*$/, "");
      }
      if (!target) { unplaced.push(p); return; }
      target.classList.add("qk-bad");
      target.title = p.message;
      const note = h("div", {class: "qk-problem", role: "alert", text: p.message});
      if (/^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(target.tagName)) { target.insertAdjacentElement("afterend", note); }
      else { target.appendChild(note); }
    });
    return unplaced;
  }

  function labelInputs(obj, onChange, testid) {
    obj = obj || {};
    const zh = h("input", {type: "text", value: obj["zh-CN"] || "", placeholder: "中文", "aria-label": "中文", "data-testid": testid ? testid + "-zh" : null});
    const en = h("input", {type: "text", value: obj.en || "", placeholder: "English", "aria-label": "English", "data-testid": testid ? testid + "-en" : null});
    function changed() { onChange(zh.value || en.value ? {"zh-CN": zh.value || en.value, en: en.value || zh.value} : null); }
    zh.addEventListener("input", changed);
    en.addEventListener("input", changed);
    return h("span", {class: "qk-label-pair"}, zh, en);
  }

  QD.ReportKit = {t: tr, label: lbl, h: h, api: api, root: root, choices: choices, fields: fields, plotly: plotly,
    errorText: errorText, draw: draw, table: table, fieldSelect: fieldSelect, debounce: debounce, pointer: pointer,
    markProblems: markProblems, labelInputs: labelInputs, formatValue: formatValue};
})();
