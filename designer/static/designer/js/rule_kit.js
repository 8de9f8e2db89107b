/* The rule designer's toolkit: window.QDRule (R).
 * Small builders every rule section uses: labelled fields that carry the JSON pointer of what they
 * edit (data-qr-path: showProblems puts each problem under the deepest field whose path it starts
 * with), selects and check lists from the pickers, expression inputs (QD.ExpressionEditor), key/value
 * tables, a generic form built from an action's option schema, and the pickers' lookups.
 * Scripts (in order): rule_kit.js, rule_trigger.js, rule_actions.js, rule_notify.js, rule_trial.js,
 * rule_designer.js (registers the editor).
 */
(function () {
  "use strict";
  var QD = window.QD;
  var R = window.QDRule = {};
  var el = R.el = function () { return QD.el.apply(null, arguments); };

  // "$.actions[0].values.qty" or "/actions/0/values/qty" → "/actions/0/values/qty"
  R.pointer = function (path) {
    path = String(path || "");
    if (path.charAt(0) !== "$") return path;
    var out = path.slice(1).replace(/\[(\d+)\]/g, "/$1").replace(/\["([^"]*)"\]/g, "/$1").replace(/\./g, "/");
    return out || "";
  };

  // A labelled field: {label, path, hint, required, testid, inline}; children are the controls.
  R.field = function (opts) {
    var label = el("label", {class: "qr-label"}, opts.label || "", opts.required ? el("span", {class: "qr-req", title: QD.t("必填", "Required")}, " *") : null);
    var node = el("div", {class: "qr-field" + (opts.inline ? " qr-inline" : "") + (opts.cls ? " " + opts.cls : ""),
      "data-qr-path": opts.path || null, "data-testid": opts.testid || null}, label);
    Array.prototype.slice.call(arguments, 1).forEach(function (c) { if (c) node.appendChild(c); });
    if (opts.hint) node.appendChild(el("div", {class: "qr-hint"}, opts.hint));
    return node;
  };

  // <select> of [{value, text}] with the current value (an unknown current value stays listed).
  R.select = function (items, value, onchange, attrs) {
    var node = el("select", Object.assign({class: "qr-select"}, attrs || {}));
    var known = false;
    items.forEach(function (item) {
      if (String(item.value) === String(value)) known = true;
      node.appendChild(el("option", {value: item.value}, item.text));
    });
    if (value !== undefined && value !== null && value !== "" && !known) node.appendChild(el("option", {value: value}, String(value) + " ?"));
    node.value = value === undefined || value === null ? "" : String(value);
    node.addEventListener("change", function () { onchange(node.value); });
    return node;
  };

  // A list of checkboxes [{value, text}] for an array value; onchange(newArray).
  R.checks = function (items, values, onchange, testid) {
    var chosen = (values || []).slice();
    var box = el("div", {class: "qr-checks", "data-testid": testid || null});
    if (!items.length) box.appendChild(el("span", {class: "qr-muted"}, QD.t("（无可选项）", "(nothing to choose)")));
    items.forEach(function (item) {
      var input = el("input", {type: "checkbox", value: item.value, checked: chosen.some(function (v) { return String(v) === String(item.value); })});
      input.addEventListener("change", function () {
        chosen = chosen.filter(function (v) { return String(v) !== String(item.value); });
        if (input.checked) chosen.push(item.value);
        onchange(chosen.slice());
      });
      box.appendChild(el("label", {class: "qr-check"}, input, " ", item.text));
    });
    return box;
  };

  // A text/number input bound to a value; onchange(value) on every edit ("" → undefined).
  R.input = function (value, onchange, attrs) {
    var node = el("input", Object.assign({type: "text", class: "qr-input", value: value === undefined || value === null ? "" : value}, attrs || {}));
    node.addEventListener("input", function () {
      var v = node.value;
      if (node.type === "number") v = v === "" ? undefined : Number(v);
      onchange(v === "" ? undefined : v);
    });
    return node;
  };

  // An expression input: QD.ExpressionEditor attached; opts {form, table, expect, multiline, testid, placeholder}.
  R.expr = function (scope, value, onchange, opts) {
    opts = opts || {};
    var input = el(opts.multiline ? "textarea" : "input", {class: "qr-expr-input", "data-testid": opts.testid || null,
      placeholder: opts.placeholder || "", rows: opts.multiline ? 2 : null, type: opts.multiline ? null : "text"});
    input.value = value || "";
    var holder = el("div", {class: "qr-expr"}, input);
    input.addEventListener("input", function () { onchange(input.value.trim() ? input.value : undefined); });
    if (QD.ExpressionEditor && QD.ExpressionEditor.attach) {
      try {
        var own = opts.form && opts.form === scope.definition.form && !opts.table;   // over the triggering record
        scope.editors.push(QD.ExpressionEditor.attach(input, {form: opts.form, table: opts.table || null,
          expect: opts.expect || null, tryIt: opts.tryIt !== false,
          trigger: own ? function () { return scope.definition.trigger; } : null}));
      } catch (err) { console.error(err); }
    }
    return holder;
  };

  // A small button.
  R.button = function (text, onclick, attrs) {
    return el("button", Object.assign({type: "button", class: "qr-btn", onclick: onclick}, attrs || {}), text);
  };

  // ---- pickers: lookups in the choices the server sent ------------------------------------------
  R.formOf = function (choices, key) {
    return ((choices && choices.forms) || []).find(function (f) { return f.key === key; }) || null;
  };
  R.formItems = function (choices, blank) {
    var items = blank ? [{value: "", text: blank}] : [];
    return items.concat(((choices && choices.forms) || []).map(function (f) {
      return {value: f.key, text: QD.label(f.label) + " (" + f.key + ")"};
    }));
  };
  R.fieldItems = function (form, filter) {
    return ((form && form.fields) || []).filter(filter || function () { return true; }).map(function (f) {
      return {value: f.key, text: QD.label(f.label) + " (" + f.key + ")"};
    });
  };
  R.typeLabel = function (choices, group, type) {
    var found = ((choices && choices[group]) || []).find(function (t) { return t.type === type; });
    return found ? QD.label(found.label) : type;
  };
  R.flowsOf = function (choices, formKey) {
    return ((choices && choices.flows) || []).filter(function (f) { return !formKey || f.form === formKey; });
  };

  // ---- generic form from an option schema (add-on actions and triggers) --------------------------
  // Strings up to 4000 characters are expressions (the engine's convention), identifiers named
  // "form" pick a form, enums a value; objects and arrays are edited as JSON.
  R.schemaForm = function (scope, target, schema, required, path, ruleForm) {
    var box = el("div", {class: "qr-generic"});
    Object.keys(schema || {}).forEach(function (name) {
      var prop = schema[name] || {}, here = path + "/" + name;
      var set = function (v) { if (v === undefined) delete target[name]; else target[name] = v; scope.changed(); };
      var control;
      if (name === "form" && prop.type === "string") {
        control = R.select(R.formItems(scope.choices, "—"), target[name], function (v) { set(v || undefined); scope.render(); });
      } else if (Array.isArray(prop.enum)) {
        control = R.select([{value: "", text: "—"}].concat(prop.enum.map(function (v) { return {value: v, text: String(v)}; })),
          target[name], function (v) { set(v || undefined); });
      } else if (prop.type === "boolean") {
        control = el("input", {type: "checkbox", checked: Boolean(target[name])});
        control.addEventListener("change", function () { set(control.checked); });
      } else if (prop.type === "number" || prop.type === "integer") {
        control = R.input(target[name], set, {type: "number", min: prop.minimum, max: prop.maximum});
      } else if (prop.type === "string" && prop.maxLength === 4000) {
        control = R.expr(scope, target[name], set, {form: ruleForm});
      } else if (prop.type === "string") {
        control = R.input(target[name], set, {pattern: prop.pattern || null});
      } else {
        control = R.json(target[name], set);
      }
      box.appendChild(R.field({label: name, path: here, required: (required || []).indexOf(name) >= 0}, control));
    });
    return box;
  };

  // A JSON textarea: onchange(parsed) only when it parses; an error shown under it otherwise.
  R.json = function (value, onchange, attrs) {
    var area = el("textarea", Object.assign({class: "qr-json", rows: 5, spellcheck: "false"}, attrs || {}));
    area.value = value === undefined ? "" : JSON.stringify(value, null, 2);
    var error = el("div", {class: "qr-local-error", hidden: true});
    area.addEventListener("input", function () {
      if (!area.value.trim()) { error.hidden = true; onchange(undefined); return; }
      try {
        var parsed = JSON.parse(area.value);
        error.hidden = true;
        onchange(parsed);
      } catch (err) {
        error.hidden = false;
        error.textContent = QD.t("不是有效的 JSON：", "Not valid JSON: ") + err.message;
      }
    });
    return el("div", {class: "qr-json-box"}, area, error);
  };

  // Show problems [{path, message}] under the deepest [data-qr-path] each path starts with; the rest
  // (and those whose field is not on screen) in `general`.
  R.placeProblems = function (root, general, problems) {
    root.querySelectorAll(".qr-problem").forEach(function (n) { n.remove(); });
    root.querySelectorAll(".qr-has-problem").forEach(function (n) { n.classList.remove("qr-has-problem"); });
    general.textContent = "";
    var slots = Array.prototype.slice.call(root.querySelectorAll("[data-qr-path]"));
    var left = [];
    (problems || []).forEach(function (p) {
      var path = R.pointer(p.path);
      var best = null;
      slots.forEach(function (slot) {
        var at = slot.getAttribute("data-qr-path");
        if ((path === at || path.indexOf(at + "/") === 0) && (!best || at.length > best.getAttribute("data-qr-path").length)) best = slot;
      });
      if (best) {
        best.classList.add("qr-has-problem");
        best.appendChild(el("div", {class: "qr-problem", role: "alert", "data-testid": "problem"}, p.message));
      } else {
        left.push(p);
      }
    });
    general.hidden = !left.length;
    left.forEach(function (p) {
      general.appendChild(el("div", {class: "qr-problem", "data-testid": "problem"}, (R.pointer(p.path) || "/") + ": " + p.message));
    });
  };
})();
