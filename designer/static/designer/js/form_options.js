/* Form designer, part 5: the type-specific part of a field's properties, driven by the palette's
 * options_schema of its type (choices, formula, reference target, lookup, serial pattern, rows,
 * precision/unit, …), plus the default value and the limits the type supports.
 * Names with a dedicated editor are listed in EDITORS; any other option gets an input built from
 * its JSON Schema (FD.widgets.bySchema), so a new field type needs no change here.
 */
(function () {
  "use strict";
  var QD = window.QD;
  var FD = QD.FD;
  var M = FD.model;
  var W = FD.widgets;
  var h = M.h;
  var t = M.t;

  var NAMES = {
    precision: ["小数位数", "Decimal places"], unit: ["单位", "Unit"], rows: ["显示行数", "Visible lines"],
    multiple: ["允许多个", "Allow several"], max_files: ["最多文件数", "Most files"],
    accept: ["允许的文件类型", "Accepted file types"], max_size_mb: ["单个文件上限 (MB)", "Largest file (MB)"],
    camera: ["用手机摄像头扫码", "Scan with the phone camera"], pattern: ["编号规则", "Numbering pattern"],
    form: ["关联的表单", "Linked form"], display: ["显示字段", "Shown field"],
    reference: ["通过哪个关联字段", "Through the reference field"], field: ["取目标表单的字段", "Field of the linked form"],
    min_rows: ["最少行数", "Fewest rows"], max_rows: ["最多行数", "Most rows"], formula: ["公式", "Formula"],
    compute: ["何时计算", "When to compute"], choices: ["选项", "Options"]
  };

  function nameOf(option) { var n = NAMES[option]; return n ? t(n[0], n[1]) : option; }

  function formChoices(S, current) {
    var forms = S.ctx.forms || S.ctx.config.forms || [];
    var list = [{value: "", label: "—"}].concat(forms.map(function (f) { return {value: f.key, label: M.label(f.label) + " (" + f.key + ")"}; }));
    if (current && !forms.some(function (f) { return f.key === current; })) { list.push({value: current, label: current}); }
    return list;
  }

  function formFields(S, formKey) {
    var forms = S.ctx.forms || S.ctx.config.forms || [];
    var form = forms.filter(function (f) { return f.key === formKey; })[0];
    if (!form && formKey === S.def.key) { form = S.def; }
    return form ? (form.fields || []) : [];
  }

  function fieldChoices(fields, current, keep) {
    var list = [{value: "", label: "—"}];
    fields.forEach(function (f) { if (!keep || keep(f)) { list.push({value: f.key, label: M.label(f.label) + " (" + f.key + ")"}); } });
    if (current && !list.some(function (c) { return c.value === current; })) { list.push({value: current, label: current}); }
    return list;
  }

  /* Dedicated editors: (S, field, set, ctx) → element. `ctx` = {level, table, bag, type}. */
  var EDITORS = {
    choices: function (S, field, set, c) {
      if (field.choices === undefined && (c.type.required_options || []).indexOf("choices") < 0) {
        return h("button", {class: "fd-link", text: "+ " + t("为结果编码设置名称", "Name the result codes"), testid: "prop-choices-add",
          attrs: {type: "button"}, on: {click: function () {
            set("choices", [{code: "OK", label: {"zh-CN": "合格", en: "OK"}}]);
            FD.props.render(S);
          }}});
      }
      return W.choices(field.choices, function (list) { set("choices", list.slice()); });
    },
    formula: function (S, field, set, c) {
      return W.expression(field.formula, function (v) { set("formula", v); },
        {testid: "prop-formula", form: function () { return S.def; }, table: c.table, placeholder: "SUM(items.qty)"}, c.bag);
    },
    form: function (S, field, set) {
      return W.select(formChoices(S, field.form), field.form, function (v) { set("form", v || undefined); FD.props.render(S); }, {testid: "prop-form"});
    },
    display: function (S, field, set) {
      return W.select(fieldChoices(formFields(S, field.form), field.display, function (f) { return !f.fields; }),
        field.display, function (v) { set("display", v || undefined); }, {testid: "prop-display"});
    },
    reference: function (S, field, set, c) {
      return W.select(fieldChoices(c.level, field.reference, function (f) { return f.type === "reference"; }),
        field.reference, function (v) { set("reference", v || undefined); FD.props.render(S); }, {testid: "prop-reference"});
    },
    field: function (S, field, set, c) {
      var ref = c.level.filter(function (f) { return f.key === field.reference; })[0];
      return W.select(fieldChoices(formFields(S, ref && ref.form), field.field, function (f) { return !f.fields; }),
        field.field, function (v) { set("field", v || undefined); }, {testid: "prop-lookup-field"});
    },
    pattern: function (S, field, set) {
      return W.text(field.pattern, function (v) { set("pattern", v); }, {testid: "prop-serial-pattern", code: true,
        placeholder: "NCR-{YYYY}-{0000}"});
    }
  };
  var HINTS = {pattern: ["{YYYY} 年 {MM} 月 {DD} 日，{0000} 为按租户和表单连续的序号",
    "{YYYY} year, {MM} month, {DD} day, {0000} a gap-free number per company and form"]};

  function typeOptions(S, field, set, c) {
    var box = h("div", {class: "fd-prop-group"});
    var schema = c.type.options_schema || {};
    var first = c.type.required_options || [];
    var names = first.filter(function (n) { return n in schema; })
      .concat(Object.keys(schema).filter(function (n) { return first.indexOf(n) < 0; }));
    names.forEach(function (name) {
      var editor = EDITORS[name];
      var control = editor ? editor(S, field, set, c)
        : W.bySchema(schema[name], field[name], function (v) { set(name, v); }, "prop-" + name);
      var hint = HINTS[name] && name in EDITORS ? t(HINTS[name][0], HINTS[name][1]) : null;
      var required = (c.type.required_options || []).indexOf(name) >= 0;
      box.appendChild(W.row(nameOf(name) + (required ? " *" : ""), control, hint));
    });
    return box.children.length ? box : null;
  }

  /* The default value: none, a constant of the type, or an expression. */
  function defaultValue(S, field, set, c) {
    var value = field["default"];
    var mode = value === undefined ? "none" : (M.isExpr(value) ? "expr" : "value");
    var wrap = h("div", {class: "fd-default"});
    var holder = h("div");
    function constant() {
      var type = field.type;
      if (type === "boolean") {
        return W.select([{value: "true", label: t("是", "Yes")}, {value: "false", label: t("否", "No")}],
          String(value === true), function (v) { set("default", v === "true"); }, {testid: "prop-default-value"});
      }
      if (Array.isArray(field.choices) && type !== "multiselect") {
        var codes = field.choices.map(function (ch) { return {value: ch.code, label: M.label(ch.label) + " (" + ch.code + ")"}; });
        return W.select(codes, value, function (v) { set("default", v); }, {testid: "prop-default-value"});
      }
      if (type === "number") { return W.number(value, function (v) { set("default", v); }, {testid: "prop-default-value"}); }
      if (type === "multiselect") {
        return W.text((Array.isArray(value) ? value : []).join(", "), function (v) {
          set("default", v.split(",").map(function (s) { return s.trim(); }).filter(Boolean));
        }, {testid: "prop-default-value", placeholder: t("选项编码，逗号分隔", "option codes, comma-separated")});
      }
      return W.text(typeof value === "string" ? value : "", function (v) { set("default", v); }, {testid: "prop-default-value"});
    }
    function fill() {
      holder.textContent = "";
      if (mode === "value") { holder.appendChild(constant()); }
      if (mode === "expr") {
        holder.appendChild(W.expression(M.isExpr(value) ? value.expr : "", function (v) { set("default", {expr: v}); },
          {testid: "prop-default-expr", form: function () { return S.def; }, table: c.table}, c.bag));
      }
    }
    wrap.appendChild(W.select([{value: "none", label: t("无", "None")}, {value: "value", label: t("固定值", "A value")},
      {value: "expr", label: t("表达式", "An expression")}], mode, function (m) {
      mode = m;
      value = m === "none" ? undefined : (m === "expr" ? {expr: ""} : (field.type === "boolean" ? false : undefined));
      set("default", m === "expr" ? undefined : value);
      fill();
    }, {testid: "prop-default"}));
    wrap.appendChild(holder);
    fill();
    return W.row(t("默认值", "Default"), wrap);
  }

  /* min/max, min_length/max_length, pattern — only those the type supports (palette "supports"). */
  function limits(S, field, set, c) {
    var supports = c.type.supports || [];
    var box = h("div", {class: "fd-prop-group"});
    var numeric = field.type === "number";
    function bound(name, zh, en) {
      var value = field[name];
      if (M.isExpr(value)) {
        box.appendChild(W.row(t(zh, en) + " (" + t("表达式", "expression") + ")", W.expression(value.expr, function (v) {
          set(name, v.trim() ? {expr: v} : undefined);
        }, {testid: "prop-" + name, form: function () { return S.def; }, table: c.table}, c.bag)));
        return;
      }
      var input = W.text(value == null ? "" : value, function (raw) {
        var parsed = W.parseBound(raw, numeric);
        input.classList.toggle("fd-invalid", raw.trim() !== "" && parsed === undefined);
        set(name, parsed);
      }, {testid: "prop-" + name, placeholder: numeric ? "" : (field.type === "text" ? "" : "YYYY-MM-DD")});
      box.appendChild(W.row(t(zh, en), input));
    }
    function length(name, zh, en) {
      box.appendChild(W.row(t(zh, en), W.number(field[name], function (v) { set(name, v === undefined ? undefined : Math.max(0, v)); },
        {testid: "prop-" + name, integer: true})));
    }
    if (supports.indexOf("range") >= 0) { bound("min", "最小值", "Minimum"); bound("max", "最大值", "Maximum"); }
    if (supports.indexOf("length") >= 0) { length("min_length", "最少字数", "Fewest characters"); length("max_length", "最多字数", "Most characters"); }
    if (supports.indexOf("pattern") >= 0 && !("pattern" in (c.type.options_schema || {}))) {
      box.appendChild(W.row(t("格式（正则表达式）", "Format (regular expression)"),
        W.text(typeof field.pattern === "string" ? field.pattern : "", function (v) { set("pattern", v || undefined); },
          {testid: "prop-pattern", code: true, placeholder: "^[A-Z]{2}\\d{6}$"})));
    }
    return box.children.length ? box : null;
  }

  FD.options = {typeOptions: typeOptions, defaultValue: defaultValue, limits: limits, nameOf: nameOf};
}());
