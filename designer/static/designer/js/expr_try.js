// The expression editor's "try it" panel (loaded by expr.js the first time it is opened):
// one input per field the expression uses, evaluated through /designer/api/expressions/evaluate.
// Sub-table columns (items.qty) take comma-separated values, one per row.
(function () {
  "use strict";
  const QD = window.QD = window.QD || {};

  function create(ctx) {
    const t = ctx.t, el = ctx.el, values = ctx.values;
    const panel = el("div", {class: "qd-expr-try", "data-testid": "expr-try-panel", hidden: true});
    ctx.wrap.appendChild(panel);
    let names = [], known = {};

    function remember(name) {
      return function (ev) { values[name] = ev.target.type === "checkbox" ? ev.target.checked : ev.target.value; };
    }
    function inputFor(entry, name) {
      const type = entry ? entry.type : "";
      const attrs = {"data-name": name, "data-testid": "expr-try-input", oninput: remember(name), onchange: remember(name)};
      if (name.indexOf(".") > 0) {
        attrs.type = "text";
        attrs.placeholder = t("每行一个值，用逗号分隔，如 1, 2, 3", "one value per row, comma-separated: 1, 2, 3");
      } else if (type === "boolean") attrs.type = "checkbox";
      else if (type === "number") { attrs.type = "number"; attrs.step = "any"; }
      else if (type === "date") attrs.type = "date";
      else if (type === "datetime") attrs.type = "datetime-local";
      else attrs.type = "text";
      const node = el("input", attrs);
      if (attrs.type === "checkbox") node.checked = !!values[name];
      else node.value = values[name] === undefined ? "" : values[name];
      return node;
    }
    // The fields to ask for: a formula field is computed from the sample, so ask for what it uses instead.
    function inputsFor(source, hasForm, fns) {
      const out = [], seen = {};
      (function visit(src, depth) {
        ctx.referencedNames(src).forEach(function (n) {
          if (seen[n] || (hasForm ? !known[n] : ctx.keywords.test(n) || fns[n.toUpperCase()])) return;
          seen[n] = true;
          const f = known[n] && known[n].field;
          const top = n.indexOf(".") < 0 && !ctx.table();
          if (f && f.type === "formula" && top && typeof f.formula === "string" && depth < 8) visit(f.formula, depth + 1);
          else out.push(n);
        });
      })(source, 0);
      return out;
    }
    function draw() {
      return ctx.catalog().then(function (catalog) {
        known = {};
        ctx.fieldCatalog(ctx.definition(), ctx.table(), catalog.system_fields).forEach(function (f) { known[f.name] = f; });
        const fns = {};
        (catalog.functions || []).forEach(function (f) { fns[f.name] = true; });
        const hasForm = !!ctx.definition();
        names = inputsFor(ctx.input.value, hasForm, fns);
        panel.textContent = "";
        const rows = el("div", {class: "qd-expr-try-fields"});
        names.forEach(function (name) {
          const entry = known[name];
          rows.appendChild(el("label", {class: "qd-expr-try-row"},
            el("span", {class: "qd-expr-try-label"}, entry ? entry.label : name), el("code", null, name), inputFor(entry, name)));
        });
        if (!names.length) rows.appendChild(el("p", {class: "qd-expr-muted"}, t("表达式没有引用字段。", "The expression uses no fields.")));
        const out = el("div", {class: "qd-expr-try-out", "data-testid": "expr-result", "aria-live": "polite"});
        panel.appendChild(rows);
        panel.appendChild(el("div", {class: "qd-expr-try-actions"},
          el("button", {type: "button", class: "primary", "data-testid": "expr-evaluate",
            onclick: function () { evaluate(out); }}, t("计算", "Evaluate")), out));
      });
    }
    function sampleValue(entry, raw) {
      if (raw === "" || raw === undefined || raw === null) return null;
      if (entry && entry.type === "number" && typeof raw === "string") { const n = Number(raw); return isNaN(n) ? raw : n; }
      return raw;
    }
    function sampleData() {
      const data = {};
      names.forEach(function (name) {
        const raw = values[name];
        const dot = name.indexOf(".");
        if (dot < 0) {
          const v = sampleValue(known[name], raw);
          if (v !== null) data[name] = v;
          return;
        }
        const tableKey = name.slice(0, dot), col = name.slice(dot + 1);
        const rows = data[tableKey] = data[tableKey] || [];
        String(raw === undefined || raw === null ? "" : raw).split(",").forEach(function (part, i) {
          const p = part.trim();
          if (p === "") return;
          rows[i] = rows[i] || {};
          rows[i][col] = sampleValue(known[name], p);
        });
        for (let i = 0; i < rows.length; i += 1) rows[i] = rows[i] || {};
      });
      return data;
    }
    function evaluate(out) {
      const body = Object.assign({expression: ctx.input.value, data: sampleData()}, ctx.formArg());
      if (ctx.table()) body.table = ctx.table();
      out.textContent = t("正在计算…", "Evaluating…");
      out.className = "qd-expr-try-out";
      return ctx.api("POST", ctx.evaluateUrl, body).then(function (r) {
        out.textContent = "";
        if (r.ok && r.data) {
          const v = r.data.value;
          out.appendChild(el("strong", {"data-testid": "expr-value"},
            v === null ? t("（空）", "(blank)") : typeof v === "object" ? JSON.stringify(v) : String(v)));
          out.appendChild(el("span", {class: "qd-expr-muted"}, " · " + r.data.type));
          return;
        }
        out.className = "qd-expr-try-out qd-expr-error";
        const errors = (r.data && r.data.errors) || [];
        out.textContent = errors.length
          ? errors.map(function (e) { return (e.field ? e.field + ": " : "") + e.message; }).join("; ")
          : (r.data && r.data.error && r.data.error.message) || t("计算失败", "Could not evaluate");
      });
    }

    return {
      toggle: function () {
        panel.hidden = !panel.hidden;
        if (ctx.button) ctx.button.setAttribute("aria-expanded", panel.hidden ? "false" : "true");
        if (!panel.hidden) draw();
      },
      refresh: function () { if (!panel.hidden) draw(); },
      evaluate: evaluate,
    };
  }

  QD.ExpressionTry = {create: create};
})();
