/* Form designer, part 1: the model helpers (no DOM besides the tiny element builder).
 *
 * QD.FD is the form designer's namespace; every form_*.js file adds one part to it:
 *   model (this file), widgets (property inputs), props (the properties panel), canvas (palette,
 *   sections, cards, drag and drop), keys (keyboard, delete, undo), preview, and the editor itself
 *   (form_designer.js, which registers the "form" editor with the shell).
 * Field types come from the palette the server builds from the engine's field-type registry
 * (GET /designer/api/field-types or config.extra.field_types); nothing here lists the types.
 */
(function () {
  "use strict";
  var QD = window.QD = window.QD || {};
  var FD = QD.FD = QD.FD || {};

  var IDENT = /^[a-z][a-z0-9_]{0,39}$/;
  var RESERVED = [];     // system columns and expression keywords: set from the palette (setKeyRules)

  function setKeyRules(palette) {
    if (palette && palette.key_pattern) { IDENT = new RegExp(palette.key_pattern); }
    RESERVED = (palette && palette.reserved_keys) || [];
  }

  function t(zh, en) { return QD.t ? QD.t(zh, en) : (QD.lang === "en" ? en : zh); }

  /* h("div", {class: "x", text: "y", testid: "z", attrs: {...}, on: {click: fn}}, child...) —
   * strings become text nodes (user-written labels are never parsed as HTML). */
  function h(tag, opts) {
    var el = document.createElement(tag);
    opts = opts || {};
    if (opts.class) { el.className = opts.class; }
    if (opts.text !== undefined && opts.text !== null) { el.textContent = String(opts.text); }
    if (opts.testid) { el.setAttribute("data-testid", opts.testid); }
    Object.keys(opts.attrs || {}).forEach(function (name) {
      var value = opts.attrs[name];
      if (value === true) { el.setAttribute(name, ""); } else if (value !== false && value != null) { el.setAttribute(name, String(value)); }
    });
    Object.keys(opts.on || {}).forEach(function (name) { el.addEventListener(name, opts.on[name]); });
    for (var i = 2; i < arguments.length; i += 1) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) { continue; }
      el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return el;
  }

  function label(obj) {
    if (!obj || typeof obj !== "object") { return typeof obj === "string" ? obj : ""; }
    var first = QD.lang === "en" ? obj.en : obj["zh-CN"];
    return first || obj["zh-CN"] || obj.en || "";
  }

  /* "Lot size (pcs)" → "lot_size_pcs"; "" when nothing usable is left. */
  function snake(text) {
    var s = String(text || "").normalize ? String(text || "").normalize("NFKD") : String(text || "");
    s = s.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").replace(/_+/g, "_");
    if (s && !/^[a-z]/.test(s)) { s = "f_" + s; }
    return s.slice(0, 40).replace(/_+$/, "");
  }

  /* A key like `base` that no sibling in `level` (a fields array) uses, `skip` excepted. */
  function uniqueKey(base, level, skip) {
    var used = {};
    (level || []).forEach(function (f) { if (f !== skip && f && f.key) { used[f.key] = true; } });
    RESERVED.forEach(function (k) { used[k] = true; });
    if (base && !used[base]) { return base; }
    var stem = (base || "field").slice(0, 36);
    for (var n = 2; ; n += 1) {
      var candidate = stem + "_" + n;
      if (!used[candidate]) { return candidate; }
    }
  }

  /* The key a new or renamed field gets: from its English label, else "<type>_<n>". */
  function keyFor(field, level) {
    var base = snake(field.label && field.label.en);
    if (!base || !IDENT.test(base)) {
      var n = 1;
      var used = {};
      (level || []).forEach(function (f) { if (f !== field) { used[f.key] = true; } });
      while (used[field.type + "_" + n]) { n += 1; }
      return field.type + "_" + n;
    }
    return uniqueKey(base, level, field);
  }

  /* Live check of a key typed by the user: null or a message. */
  function keyProblem(key, level, field) {
    if (!IDENT.test(key || "")) {
      return t("键须以小写字母开头，只含小写字母、数字和下划线，最长 40 个字符",
        "A key must start with a lowercase letter and contain only lowercase letters, digits and '_' (at most 40 characters)");
    }
    if (key.indexOf("__") >= 0 || RESERVED.indexOf(key) >= 0) {
      return t("“" + key + "”是保留的键，请换一个", "'" + key + "' is reserved; choose another key");
    }
    var clash = (level || []).some(function (f) { return f !== field && f.key === key; });
    return clash ? t("同一层级中已有键“" + key + "”", "Another field at this level already has the key '" + key + "'") : null;
  }

  /* Default values of a new field of palette item `type`. */
  function newField(type, level, forms) {
    var field = {key: "", type: type.type, label: {"zh-CN": type.label["zh-CN"], en: type.label.en}};
    var schema = type.options_schema || {};
    (type.required_options || []).forEach(function (name) {
      var starter = starterOption(name, schema[name], forms);
      if (starter !== undefined) { field[name] = starter; }
    });
    if (type.is_subtable) { field.fields = []; }
    field.key = keyFor(field, level);
    return field;
  }

  function starterOption(name, schema, forms) {
    schema = schema || {};
    if (schema.default !== undefined) { return JSON.parse(JSON.stringify(schema.default)); }
    if (schema.type === "array" && schema.items && schema.items.properties && schema.items.properties.code) {
      return [1, 2].map(function (n) { return {code: "opt" + n, label: {"zh-CN": "选项" + n, en: "Option " + n}}; });
    }
    if (name === "pattern") { return "NO-{YYYY}-{0000}"; }
    if (name === "form" && forms && forms.length) { return forms[0].key; }
    if (schema.type === "string") { return ""; }
    return undefined;
  }

  /* Whether a field's key is locked (it was in a published version). `path` = ["items", "qty"]. */
  function isLocked(lockedKeys, path) {
    if (!lockedKeys || !lockedKeys.length) { return false; }
    var dotted = path.join(".");
    return lockedKeys.indexOf(dotted) >= 0 || (path.length === 1 && lockedKeys.indexOf(path[0]) >= 0);
  }

  /* "/fields/3/fields/1/formula" or "$.fields[3].fields[1].formula" → {indexes: [3, 1], rest: "formula"}. */
  function parseProblemPath(path) {
    var parts = [];
    if (String(path).charAt(0) === "/") {
      parts = String(path).split("/").slice(1).map(function (p) { return p.replace(/~1/g, "/").replace(/~0/g, "~"); });
    } else {
      var re = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g;
      var m;
      while ((m = re.exec(String(path))) !== null) { parts.push(m[1] || m[2] || m[3]); }
    }
    var indexes = [];
    var i = 0;
    while (i + 1 < parts.length && parts[i] === "fields" && /^\d+$/.test(parts[i + 1])) {
      indexes.push(Number(parts[i + 1]));
      i += 2;
    }
    return {indexes: indexes, rest: parts.slice(i).join(".")};
  }

  /* The field object at a chain of indexes into definition.fields / .fields, or null. */
  function fieldAt(definition, indexes) {
    var level = definition.fields || [];
    var field = null;
    for (var i = 0; i < indexes.length; i += 1) {
      field = level[indexes[i]];
      if (!field) { return null; }
      level = field.fields || [];
    }
    return field;
  }

  function ensureLayout(definition) {
    if (!definition.layout || typeof definition.layout !== "object") { definition.layout = {}; }
    if (!Array.isArray(definition.layout.sections)) { definition.layout.sections = []; }
    return definition.layout.sections;
  }

  function sectionKey(sections) {
    var used = {};
    sections.forEach(function (s) { used[s.key] = true; });
    for (var n = 1; ; n += 1) { if (!used["section_" + n]) { return "section_" + n; } }
  }

  function isExpr(value) { return !!value && typeof value === "object" && typeof value.expr === "string"; }

  FD.model = {
    setKeyRules: setKeyRules, h: h, t: t, label: label, snake: snake, uniqueKey: uniqueKey, keyFor: keyFor,
    keyProblem: keyProblem, newField: newField, isLocked: isLocked, parseProblemPath: parseProblemPath,
    fieldAt: fieldAt, ensureLayout: ensureLayout, sectionKey: sectionKey, isExpr: isExpr
  };
}());
