// The report designer's dataset panel (window.QD.ReportDataset): dimensions (a field, a date
// bucket for dates, a bin width for numbers), measures (aggregation from the server's registry,
// field, label, where-expression), the record filter (an expression) and structured conditions,
// sort and limit. Every input carries data-path (a JSON pointer into the definition) so problems
// from the server land where they belong.
(function () {
  "use strict";
  const QD = window.QD = window.QD || {};
  const K = QD.ReportKit;
  const h = K.h, tr = K.t;

  function keyFor(agg, field) {
    const raw = (agg + (field ? "_" + field : "")).toLowerCase().replace(/[^a-z0-9_]/g, "_").replace(/^_+|_+$/g, "").slice(0, 40);
    return /^[a-z]/.test(raw) ? raw : "k_" + raw.slice(0, 37);
  }

  function uniqueKey(env, base, except) {
    const used = {};
    (env.ds().dimensions || []).concat(env.ds().measures || []).forEach(function (x) { if (x !== except && x.key) { used[x.key] = true; } });
    let key = base, n = 2;
    while (used[key]) { key = base.slice(0, 36) + "_" + n++; }
    return key;
  }

  function rename(env, item, key) {
    const old = item.key;
    item.key = key;
    (env.ds().sort || []).forEach(function (s) { if (s.by === old) { s.by = key; } });
  }

  // set the key again from agg/field unless the user typed their own
  function rekey(env, item, oldBase, newBase) {
    if (!item.key || item.key === oldBase || item.key.indexOf(oldBase + "_") === 0) { rename(env, item, uniqueKey(env, newBase, item)); }
  }

  function section(title, testid, body, addButton) {
    return h("section", {class: "qr-section", "data-testid": testid}, h("h3", null, title, addButton || null), body);
  }

  function removeButton(testid, onClick) {
    return h("button", {type: "button", class: "qr-remove", title: tr("删除", "Remove"), "aria-label": tr("删除", "Remove"),
      "data-testid": testid, on: {click: onClick}}, "×");
  }

  function fieldOf(env, path) { return env.fields.find(function (f) { return f.path === path; }); }

  // ---------------------------------------------------------------- dimensions
  function dimensions(env) {
    const ds = env.ds();
    const list = ds.dimensions = ds.dimensions || [];
    const max = env.chart() ? env.chart().dimensions[1] : 3;
    const body = h("div", {class: "qr-rows", "data-path": "/dataset/dimensions"});
    list.forEach(function (d, i) {
      const path = "/dataset/dimensions/" + i;
      const f = fieldOf(env, d.field);
      const pick = K.fieldSelect(env.fields, d.field, null, {"data-path": path + "/field", "data-testid": "dimension-field-" + i,
        "aria-label": tr("分组字段", "Group by field")});
      pick.addEventListener("change", function () {
        const oldBase = keyFor(d.field || "", d.bucket || "");
        d.field = pick.value;
        const nf = fieldOf(env, d.field);
        if (nf && nf.date && !d.bucket) { d.bucket = "month"; }
        if (!nf || !nf.date) { delete d.bucket; }
        if (!nf || !nf.numeric) { delete d.bin; }
        rekey(env, d, oldBase, keyFor(d.field, d.bucket || ""));
        env.changed(true);
      });
      const row = h("div", {class: "qr-row", "data-path": path}, pick);
      if (f && f.date) {
        const bucket = h("select", {"data-path": path + "/bucket", "data-testid": "dimension-bucket-" + i, "aria-label": tr("日期分组", "Date bucket")},
          h("option", {value: "", text: tr("按原值", "As is")}));
        env.choices.buckets.forEach(function (b) { bucket.appendChild(h("option", {value: b.key, text: K.label(b.label)})); });
        bucket.value = d.bucket || "";
        bucket.addEventListener("change", function () {
          const oldBase = keyFor(d.field, d.bucket || "");
          if (bucket.value) { d.bucket = bucket.value; } else { delete d.bucket; }
          rekey(env, d, oldBase, keyFor(d.field, d.bucket || ""));
          env.changed(true);
        });
        row.appendChild(bucket);
      } else if (f && f.numeric) {
        const bin = h("input", {type: "number", min: "0", step: "any", placeholder: tr("分箱宽度", "Bin width"), value: d.bin ? d.bin.width : "",
          "data-path": path + "/bin", "aria-label": tr("分箱宽度", "Bin width")});
        bin.addEventListener("change", function () {
          const w = parseFloat(bin.value);
          if (w > 0) { d.bin = Object.assign({}, d.bin || {}, {width: w}); } else { delete d.bin; }
          env.changed(false);
        });
        row.appendChild(bin);
      }
      row.appendChild(K.labelInputs(d.label, function (value) { if (value) { d.label = value; } else { delete d.label; } env.changed(false); }));
      row.appendChild(removeButton("remove-dimension-" + i, function () { list.splice(i, 1); env.changed(true); }));
      body.appendChild(row);
    });
    const add = h("button", {type: "button", class: "qr-add", "data-testid": "add-dimension", disabled: list.length >= max,
      on: {click: function () { list.push({field: "", key: uniqueKey(env, "dim", null)}); env.changed(true); }}}, "+ " + tr("维度", "Dimension"));
    return section(tr("维度（分组）", "Dimensions (group by)"), "report-dimensions", body, add);
  }

  // ---------------------------------------------------------------- measures
  function measures(env) {
    const ds = env.ds();
    const list = ds.measures = ds.measures || [];
    const max = env.chart() ? env.chart().measures[1] : 12;
    const aggs = {};
    env.choices.aggregations.forEach(function (a) { aggs[a.key] = a; });
    const body = h("div", {class: "qr-rows", "data-path": "/dataset/measures"});
    list.forEach(function (m, i) {
      const path = "/dataset/measures/" + i;
      const agg = aggs[m.agg] || {field: "optional", options: [], required: []};
      const row = h("div", {class: "qr-row qr-measure", "data-path": path});
      const pick = h("select", {"data-path": path + "/agg", "data-testid": "measure-agg-" + i, "aria-label": tr("汇总方式", "Aggregation")});
      env.choices.aggregations.forEach(function (a) { pick.appendChild(h("option", {value: a.key, text: K.label(a.label)})); });
      pick.value = m.agg;
      pick.addEventListener("change", function () {
        const oldBase = keyFor(m.agg, m.field);
        const next = aggs[pick.value];
        m.agg = pick.value;
        if (next.field === "none") { delete m.field; }
        ["where", "per", "lsl", "usl"].forEach(function (name) { if (next.options.indexOf(name) < 0) { delete m[name]; } });
        rekey(env, m, oldBase, keyFor(m.agg, m.field));
        env.changed(true);
      });
      row.appendChild(pick);
      if (agg.field !== "none") {
        const field = K.fieldSelect(env.fields, m.field, agg.numeric ? function (f) { return f.numeric; } : null,
          {"data-path": path + "/field", "data-testid": "measure-field-" + i, "aria-label": tr("字段", "Field")});
        field.addEventListener("change", function () {
          const oldBase = keyFor(m.agg, m.field);
          if (field.value) { m.field = field.value; } else { delete m.field; }
          rekey(env, m, oldBase, keyFor(m.agg, m.field));
          env.changed(true);
        });
        row.appendChild(field);
      }
      row.appendChild(K.labelInputs(m.label, function (value) { if (value) { m.label = value; } else { delete m.label; } env.changed(false); },
        "measure-label-" + i));
      row.appendChild(removeButton("remove-measure-" + i, function () {
        if (ds.sort) { ds.sort = ds.sort.filter(function (s) { return s.by !== m.key; }); if (!ds.sort.length) { delete ds.sort; } }
        list.splice(i, 1);
        env.changed(true);
      }));
      if (agg.options.indexOf("where") >= 0) {
        const where = h("input", {type: "text", value: m.where || "", class: "qr-expr", "data-path": path + "/where",
          "data-testid": "measure-where-" + i, placeholder: tr("条件，如 result = \"accept\"", "Condition, e.g. result = \"accept\""),
          "aria-label": tr("条件", "Condition")});
        where.addEventListener("input", function () { if (where.value.trim()) { m.where = where.value; } else { delete m.where; } env.changed(false); });
        row.appendChild(h("label", {class: "qr-wide"}, h("span", {text: agg.required.indexOf("where") >= 0 ? tr("计入条件", "Counts when")
          : tr("仅计入满足条件的行（可选）", "Only rows where (optional)")}), where));
        env.attachExpr(where, "boolean");
      }
      if (agg.options.indexOf("per") >= 0) {
        const per = K.fieldSelect(env.fields, m.per, function (f) { return f.numeric; }, {"data-path": path + "/per", "aria-label": "per"});
        per.addEventListener("change", function () { if (per.value) { m.per = per.value; } else { delete m.per; } env.changed(false); });
        row.appendChild(h("label", {class: "qr-wide"}, h("span", {text: tr("分母（样本量字段）", "Per (sample size field)")}), per));
      }
      ["lsl", "usl"].forEach(function (name) {
        if (agg.options.indexOf(name) < 0) { return; }
        const input = h("input", {type: "text", value: m[name] === undefined ? "" : String(m[name]), "data-path": path + "/" + name,
          placeholder: tr("数值或字段路径", "A number or a field path"), "aria-label": name.toUpperCase()});
        input.addEventListener("change", function () {
          const v = input.value.trim();
          if (!v) { delete m[name]; } else if (!isNaN(Number(v))) { m[name] = Number(v); } else { m[name] = v; }
          env.changed(false);
        });
        row.appendChild(h("label", null, h("span", {text: name.toUpperCase()}), input));
      });
      body.appendChild(row);
    });
    const add = h("button", {type: "button", class: "qr-add", "data-testid": "add-measure", disabled: list.length >= max,
      on: {click: function () { list.push({agg: "count", key: uniqueKey(env, "count", null)}); env.changed(true); }}}, "+ " + tr("度量", "Measure"));
    return section(tr("度量（汇总）", "Measures (aggregate)"), "report-measures", body, add);
  }

  // ---------------------------------------------------------------- filters
  function filters(env) {
    const ds = env.ds();
    const expr = h("textarea", {rows: "2", class: "qr-expr", "data-path": "/dataset/filter", "data-testid": "report-filter",
      placeholder: tr("只统计满足条件的记录，如 inspect_date >= DATE(2026,1,1)", "Only records where, e.g. result = \"reject\""),
      "aria-label": tr("筛选条件", "Filter")});
    expr.value = ds.filter || "";
    expr.addEventListener("input", function () { if (expr.value.trim()) { ds.filter = expr.value; } else { delete ds.filter; } env.changed(false); });
    const body = h("div", {class: "qr-rows"}, expr);
    env.attachExpr(expr, "boolean");
    const list = ds.filters || [];
    list.forEach(function (c, i) {
      const path = "/dataset/filters/" + i;
      const pick = K.fieldSelect(env.fields, c.field, null, {"data-path": path + "/field", "aria-label": tr("字段", "Field")});
      pick.addEventListener("change", function () { c.field = pick.value; env.changed(true); });
      const op = h("select", {"data-path": path + "/op", "aria-label": tr("比较", "Operator")});
      env.choices.ops.forEach(function (o) { op.appendChild(h("option", {value: o.key, text: K.label(o.label)})); });
      op.value = c.op;
      op.addEventListener("change", function () { c.op = op.value; env.changed(true); });
      const many = c.op === "in" || c.op === "not_in" || c.op === "between";
      const value = h("input", {type: "text", "data-path": path + "/value", "aria-label": tr("值", "Value"),
        placeholder: many ? tr("用逗号分隔", "comma-separated") : "", hidden: c.op === "blank" || c.op === "not_blank",
        value: Array.isArray(c.value) ? c.value.join(", ") : (c.value === undefined || c.value === null ? "" : String(c.value))});
      value.addEventListener("change", function () {
        const f = fieldOf(env, c.field);
        const cast = function (v) { return f && f.numeric && v !== "" && !isNaN(Number(v)) ? Number(v) : v; };
        c.value = many ? value.value.split(",").map(function (v) { return cast(v.trim()); }) : cast(value.value.trim());
        env.changed(false);
      });
      body.appendChild(h("div", {class: "qr-row", "data-path": path}, pick, op, value,
        removeButton("remove-filter-" + i, function () { list.splice(i, 1); if (!list.length) { delete ds.filters; } env.changed(true); })));
    });
    const add = h("button", {type: "button", class: "qr-add", "data-testid": "add-condition", on: {click: function () {
      ds.filters = list.concat([{field: "", op: "="}]);
      env.changed(true);
    }}}, "+ " + tr("条件", "Condition"));
    return section(tr("筛选", "Filter"), "report-filters", body, add);
  }

  // ---------------------------------------------------------------- sort and limit
  function sortLimit(env) {
    const ds = env.ds();
    const keys = (ds.dimensions || []).concat(ds.measures || []).filter(function (x) { return x.key; });
    const body = h("div", {class: "qr-rows"});
    (ds.sort || []).forEach(function (s, i) {
      const by = h("select", {"data-path": "/dataset/sort/" + i + "/by", "data-testid": "sort-by-" + i, "aria-label": tr("排序依据", "Sort by")});
      keys.forEach(function (x) { by.appendChild(h("option", {value: x.key, text: x.label ? K.label(x.label) + " · " + x.key : x.key})); });
      by.value = s.by;
      by.addEventListener("change", function () { s.by = by.value; env.changed(false); });
      const desc = h("input", {type: "checkbox", checked: !!s.desc});
      desc.addEventListener("change", function () { if (desc.checked) { s.desc = true; } else { delete s.desc; } env.changed(false); });
      body.appendChild(h("div", {class: "qr-row", "data-path": "/dataset/sort/" + i}, by, h("label", null, desc, tr("降序", "Descending")),
        removeButton("remove-sort-" + i, function () { ds.sort.splice(i, 1); if (!ds.sort.length) { delete ds.sort; } env.changed(true); })));
    });
    const limit = h("input", {type: "number", min: "1", max: "10000", value: ds.limit || "", "data-path": "/dataset/limit",
      "data-testid": "report-limit", placeholder: tr("全部", "All")});
    limit.addEventListener("change", function () {
      const n = parseInt(limit.value, 10);
      if (n > 0) { ds.limit = Math.min(n, 10000); } else { delete ds.limit; }
      env.changed(false);
    });
    body.appendChild(h("label", {class: "qr-row"}, h("span", {text: tr("最多行数", "Limit rows")}), limit));
    const add = h("button", {type: "button", class: "qr-add", "data-testid": "add-sort", disabled: !keys.length || (ds.sort || []).length >= 4,
      on: {click: function () { ds.sort = (ds.sort || []).concat([{by: keys[0].key}]); env.changed(true); }}}, "+ " + tr("排序", "Sort"));
    return section(tr("排序与行数", "Sort and limit"), "report-sort", body, add);
  }

  QD.ReportDataset = {dimensions: dimensions, measures: measures, filters: filters, sortLimit: sortLimit, keyFor: keyFor};
})();
