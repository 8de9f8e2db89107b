/* Form designer, part 2: property inputs (text, bilingual text, number, select, constant-or-
 * expression flags, expression boxes, option rows, validation rows, schema-driven inputs).
 *
 * Every widget takes its current value and an onChange(value) callback; `bag` collects the
 * expression editors attached so the panel can destroy them when it re-renders.
 */
(function () {
  "use strict";
  var QD = window.QD;
  var FD = QD.FD;
  var h = FD.model.h;
  var t = FD.model.t;
  var isExpr = FD.model.isExpr;
  var uid = 0;

  function nextId(prefix) { uid += 1; return "fd-" + prefix + "-" + uid; }

  /* A labelled row: <div class="fd-prop"><label for=…>text</label>control hint</div>. */
  function row(text, control, hint) {
    var target = control.matches && control.matches("input,select,textarea") ? control : control.querySelector("input,select,textarea");
    if (target && !target.id) { target.id = nextId("in"); }
    return h("div", {class: "fd-prop"},
      h("label", {text: text, attrs: {for: target ? target.id : null}}), control,
      hint ? h("div", {class: "fd-hint", text: hint}) : null);
  }

  function text(value, onChange, opts) {
    opts = opts || {};
    var input = h(opts.multiline ? "textarea" : "input", {
      class: "fd-input", testid: opts.testid,
      attrs: {type: opts.multiline ? null : (opts.type || "text"), placeholder: opts.placeholder || null,
        rows: opts.multiline ? 2 : null, maxlength: opts.maxlength || null, spellcheck: opts.code ? "false" : null}
    });
    input.value = value == null ? "" : String(value);
    input.addEventListener("input", function () { onChange(input.value); });
    return input;
  }

  /* "" → undefined, "12.5" → 12.5, anything else stays text (e.g. a date bound "2026-01-01"). */
  function parseBound(raw, numeric) {
    var s = String(raw).trim();
    if (s === "") { return undefined; }
    if (/^-?\d+(\.\d+)?$/.test(s)) { return Number(s); }
    return numeric ? undefined : s;
  }

  function number(value, onChange, opts) {
    opts = opts || {};
    var input = text(value, function (raw) {
      var parsed = parseBound(raw, true);
      input.classList.toggle("fd-invalid", String(raw).trim() !== "" && parsed === undefined);
      onChange(opts.integer && parsed !== undefined ? Math.round(parsed) : parsed);
    }, {testid: opts.testid, type: "text", placeholder: opts.placeholder});
    input.setAttribute("inputmode", "decimal");
    return input;
  }

  function select(choices, value, onChange, opts) {
    opts = opts || {};
    var el = h("select", {class: "fd-input", testid: opts.testid});
    choices.forEach(function (c) {
      var option = h("option", {text: c.label, attrs: {value: c.value}});
      el.appendChild(option);
    });
    el.value = value == null ? "" : String(value);
    el.addEventListener("change", function () { onChange(el.value); });
    return el;
  }

  function checkbox(checked, onChange, text_, testid) {
    var box = h("input", {testid: testid, attrs: {type: "checkbox"}});
    box.checked = !!checked;
    box.addEventListener("change", function () { onChange(box.checked); });
    return h("label", {class: "fd-check"}, box, " " + text_);
  }

  /* Both languages of a label/help text: {"zh-CN", "en"} (undefined when both are blank and
   * `optional`, so an optional help text disappears instead of failing the blank-label check). */
  function bilingual(value, onChange, opts) {
    opts = opts || {};
    var current = {"zh-CN": (value && value["zh-CN"]) || "", en: (value && value.en) || ""};
    function changed(lang, v) {
      current[lang] = v;
      var blank = !current["zh-CN"].trim() && !current.en.trim();
      onChange(opts.optional && blank ? undefined : {"zh-CN": current["zh-CN"], en: current.en}, lang);
    }
    var zh = text(current["zh-CN"], function (v) { changed("zh-CN", v); }, {testid: opts.testid && opts.testid + "-zh", multiline: opts.multiline});
    var en = text(current.en, function (v) { changed("en", v); }, {testid: opts.testid && opts.testid + "-en", multiline: opts.multiline});
    return h("div", {class: "fd-bilingual"},
      row(opts.zhLabel || t("中文", "Chinese"), zh), row(opts.enLabel || t("英文", "English"), en));
  }

  /* An expression box with autocomplete and live checks (QD.ExpressionEditor from expr.js); returns
   * a holder element whose `.input` is the textarea. */
  function expression(value, onChange, opts, bag) {
    var input = text(value || "", function (v) { onChange(v); }, {testid: opts.testid, multiline: true, code: true});
    input.classList.add("fd-expr");
    input.setAttribute("placeholder", opts.placeholder || t("例如 lot_size > 500", "e.g. lot_size > 500"));
    // the expression editor wraps the input where it stands, so the input needs a parent first
    var holder = h("div", {class: "fd-expr-holder"}, input);
    holder.input = input;
    if (QD.ExpressionEditor && QD.ExpressionEditor.attach) {
      var handle = QD.ExpressionEditor.attach(input, {form: opts.form, table: opts.table || null,
        expect: opts.expect || null, tryIt: true});
      if (handle && bag) { bag.push(handle); }
    }
    return holder;
  }

  /* required / readonly / visible: a constant (true/false) or {"expr": …}. `dflt` = the value
   * when the property is absent; choosing it removes the property. */
  function flag(value, onChange, opts, bag) {
    var mode = isExpr(value) ? "expr" : (value === undefined ? String(opts.dflt) : String(!!value));
    var holder = h("div", {class: "fd-flag"});
    var modeSelect = select([
      {value: "true", label: opts.yes}, {value: "false", label: opts.no},
      {value: "expr", label: t("满足条件时…", "When a condition holds…")}
    ], mode, function (m) {
      mode = m;
      if (m === "expr") {
        onChange({expr: exprBox.input.value || ""});
      } else {
        onChange(m === String(opts.dflt) ? undefined : m === "true");
      }
      exprWrap.hidden = m !== "expr";
    }, {testid: opts.testid});
    var exprBox = expression(isExpr(value) ? value.expr : "", function (src) {
      if (mode === "expr") { onChange({expr: src}); }
    }, {testid: opts.testid + "-expr", expect: "boolean", form: opts.form, table: opts.table}, bag);
    var exprWrap = h("div", {class: "fd-flag-expr"}, exprBox);
    exprWrap.hidden = mode !== "expr";
    holder.appendChild(modeSelect);
    holder.appendChild(exprWrap);
    return holder;
  }

  /* Option rows {code, label{zh-CN,en}}: add, remove, move up/down; codes checked unique. */
  function choices(list, onChange) {
    list = Array.isArray(list) ? list : [];
    var wrap = h("div", {class: "fd-choices", testid: "prop-choices"});
    function emit() { onChange(list); validate(); }
    function validate() {
      var seen = {};
      Array.prototype.forEach.call(wrap.querySelectorAll(".fd-choice-code"), function (input, i) {
        var code = list[i] && list[i].code;
        var bad = !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(code || "") || seen[code];
        seen[code] = true;
        input.classList.toggle("fd-invalid", !!bad);
        input.title = bad ? t("编码须唯一，只含字母、数字、_ . -", "Codes must be unique: letters, digits, _ . -") : "";
      });
    }
    function render() {
      wrap.textContent = "";
      wrap.appendChild(h("div", {class: "fd-choice fd-choice-head"},
        h("span", {text: t("编码", "Code")}), h("span", {text: t("中文", "Chinese")}), h("span", {text: t("英文", "English")}), h("span")));
      list.forEach(function (choice, i) {
        choice.label = choice.label || {"zh-CN": "", en: ""};
        var code = text(choice.code, function (v) { choice.code = v; emit(); }, {testid: "choice-code-" + i, code: true});
        code.classList.add("fd-choice-code");
        code.setAttribute("aria-label", t("编码", "Code") + " " + (i + 1));
        var zh = text(choice.label["zh-CN"], function (v) { choice.label["zh-CN"] = v; emit(); }, {testid: "choice-label-zh-" + i});
        zh.setAttribute("aria-label", t("中文名称", "Chinese label") + " " + (i + 1));
        var en = text(choice.label.en, function (v) { choice.label.en = v; emit(); }, {testid: "choice-label-en-" + i});
        en.setAttribute("aria-label", t("英文名称", "English label") + " " + (i + 1));
        wrap.appendChild(h("div", {class: "fd-choice"}, code, zh, en, h("span", {class: "fd-row-tools"},
          iconButton("↑", t("上移", "Move up"), i === 0, function () { move(i, -1); }),
          iconButton("↓", t("下移", "Move down"), i === list.length - 1, function () { move(i, 1); }),
          iconButton("×", t("删除选项", "Remove option"), list.length <= 1, function () { list.splice(i, 1); emit(); render(); }, "choice-remove-" + i))));
      });
      wrap.appendChild(h("button", {class: "fd-link", text: "+ " + t("添加选项", "Add option"), testid: "choice-add",
        attrs: {type: "button"}, on: {click: function () {
          var n = list.length + 1;
          var used = {};
          list.forEach(function (c) { used[c.code] = true; });
          while (used["opt" + n]) { n += 1; }
          list.push({code: "opt" + n, label: {"zh-CN": "选项" + n, en: "Option " + n}});
          emit(); render();
          var inputs = wrap.querySelectorAll(".fd-choice-code");
          if (inputs.length) { inputs[inputs.length - 1].focus(); }
        }}}));
      validate();
    }
    function move(i, d) {
      var item = list.splice(i, 1)[0];
      list.splice(i + d, 0, item);
      emit(); render();
    }
    render();
    return wrap;
  }

  function iconButton(glyph, title, disabled, onClick, testid) {
    return h("button", {class: "fd-icon-btn", text: glyph, testid: testid,
      attrs: {type: "button", title: title, "aria-label": title, disabled: !!disabled}, on: {click: onClick}});
  }

  /* Validation rows {expr, message{zh-CN,en}}. */
  function validations(list, onChange, opts, bag) {
    list = Array.isArray(list) ? list : [];
    var wrap = h("div", {class: "fd-validations", testid: "prop-validations"});
    function render() {
      wrap.textContent = "";
      list.forEach(function (rule, i) {
        rule.message = rule.message || {"zh-CN": "", en: ""};
        var box = h("div", {class: "fd-validation"});
        box.appendChild(row(t("条件（为真才通过）", "Condition (must be true)"), expression(rule.expr, function (v) {
          rule.expr = v; onChange(list);
        }, {testid: "validation-expr-" + i, expect: "boolean", form: opts.form, table: opts.table}, bag)));
        box.appendChild(bilingual(rule.message, function (v) { rule.message = v; onChange(list); },
          {testid: "validation-message-" + i, zhLabel: t("提示（中文）", "Message (Chinese)"), enLabel: t("提示（英文）", "Message (English)")}));
        box.appendChild(h("button", {class: "fd-link danger", text: t("删除此校验", "Remove this validation"),
          testid: "validation-remove-" + i, attrs: {type: "button"},
          on: {click: function () { list.splice(i, 1); onChange(list); render(); }}}));
        wrap.appendChild(box);
      });
      wrap.appendChild(h("button", {class: "fd-link", text: "+ " + t("添加校验", "Add validation"), testid: "validation-add",
        attrs: {type: "button"}, on: {click: function () {
          list.push({expr: "", message: {"zh-CN": "", en: ""}});
          onChange(list); render();
        }}}));
    }
    render();
    return wrap;
  }

  /* An input for an option whose JSON Schema is known but which has no dedicated editor. */
  function bySchema(schema, value, onChange, testid) {
    schema = schema || {};
    if (Array.isArray(schema.enum)) {
      return select([{value: "", label: "—"}].concat(schema.enum.map(function (v) { return {value: v, label: String(v)}; })),
        value, function (v) { onChange(v === "" ? undefined : v); }, {testid: testid});
    }
    if (schema.type === "boolean") {
      var dflt = schema.default === undefined ? false : schema.default;
      return checkbox(value === undefined ? dflt : value, function (v) { onChange(v === dflt ? undefined : v); }, t("是", "Yes"), testid);
    }
    if (schema.type === "integer" || schema.type === "number") {
      return number(value, function (v) {
        if (v !== undefined && schema.minimum !== undefined && v < schema.minimum) { v = schema.minimum; }
        if (v !== undefined && schema.maximum !== undefined && v > schema.maximum) { v = schema.maximum; }
        onChange(v);
      }, {testid: testid, integer: schema.type === "integer",
        placeholder: schema.default !== undefined ? String(schema.default) : null});
    }
    if (schema.type === "array" && schema.items && schema.items.type === "string") {
      return text((value || []).join(", "), function (v) {
        var items = v.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
        onChange(items.length ? items : undefined);
      }, {testid: testid, placeholder: t("用逗号分隔", "comma-separated")});
    }
    return text(value, function (v) { onChange(v === "" ? undefined : v); }, {testid: testid, maxlength: schema.maxLength});
  }

  FD.widgets = {row: row, text: text, number: number, select: select, checkbox: checkbox, bilingual: bilingual,
    expression: expression, flag: flag, choices: choices, validations: validations, bySchema: bySchema,
    iconButton: iconButton, parseBound: parseBound};
}());
