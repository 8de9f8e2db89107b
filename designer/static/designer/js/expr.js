// The expression editor used wherever an expression goes: QD.ExpressionEditor.attach(inputEl, opts).
// Autocomplete (fields by key or label, sub-table columns as items.qty, system fields, functions with
// signature and one-line help from the function registry), a live check (~300 ms after typing) with the
// error underlined in place (a mirror div behind the transparent input) and explained, and a "try it"
// panel that evaluates against sample values. inputEl.value stays the source of truth; changes made here
// dispatch input/change on it. opts = {form: () => definition | formKey, table, expect, tryIt, urls,
// trigger: () => a rule trigger (its names, such as old.<field>, are known to the check)}.
(function () {
  "use strict";
  const QD = window.QD = window.QD || {};
  const META = document.querySelector('meta[name="csrf-token"]');
  const LANG = QD.lang || ((document.documentElement.lang || "").toLowerCase().startsWith("en") ? "en" : "zh-CN");
  const t = function (zh, en) { return QD.t ? QD.t(zh, en) : (LANG === "en" ? en : zh); };
  const IDENT = /[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff.]*$/;
  const NAMES = /"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)(\s*\()?/g;
  const MAX_SUGGEST = 12;

  function api(method, url, body) {
    if (QD.api) return QD.api(method, url, body);
    const init = {method: method, credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": META ? META.content : ""}};
    if (body) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        return {ok: res.ok, status: res.status, data: data};
      });
    }, function () { return {ok: false, status: 0, data: {error: {message: t("网络错误", "Network error")}}}; });
  }
  function el(tag, attrs) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    });
    for (let i = 2; i < arguments.length; i += 1) {
      const c = arguments[i];
      if (c !== null && c !== undefined && c !== false) node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  function labelOf(value) {
    if (!value) return "";
    if (typeof value === "string") return value;
    return value[LANG] || value[LANG === "en" ? "zh-CN" : "en"] || "";
  }
  function urls(opts) {
    const cfg = document.getElementById("designer-config");
    let fromPage = {};
    try { fromPage = cfg ? (JSON.parse(cfg.textContent).urls || {}) : {}; } catch (e) { fromPage = {}; }
    const u = Object.assign({}, fromPage, opts.urls || {});
    return {check: u.expressions_check || "/designer/api/expressions/check",
      catalog: u.expressions_catalog || "/designer/api/expressions/catalog",
      evaluate: u.expressions_evaluate || "/designer/api/expressions/evaluate"};
  }

  function pageForms() {
    const cfg = document.getElementById("designer-config");
    const out = {};
    try { (cfg ? JSON.parse(cfg.textContent).forms || [] : []).forEach(function (f) { out[f.key] = f; }); } catch (e) { /* none */ }
    return out;
  }
  const KEYWORDS = /^(AND|OR|NOT|TRUE|FALSE|BLANK|NULL|IN)$/i;

  // ------------------------------------------------------------------ catalogs
  let catalogs = {};
  function functionCatalog(url) {
    if (!catalogs[url]) {
      catalogs[url] = api("GET", url).then(function (r) {
        if (!r.ok || !r.data) { delete catalogs[url]; return {functions: [], system_fields: []}; }
        return r.data;
      });
    }
    return catalogs[url];
  }
  function isTable(f) { return f && Array.isArray(f.fields) && (f.type === "subtable" || f.fields.length > 0); }
  function fieldEntry(f, name, prefix) {
    const zh = (f.label && f.label["zh-CN"]) || "", en = (f.label && f.label.en) || "";
    return {kind: "field", name: name, type: f.type || "", label: (prefix ? prefix + " › " : "") + (labelOf(f.label) || f.key),
      search: [name, zh, en].join("\n").toLowerCase(), field: f};
  }
  // Names an expression may use: in a sub-table row its columns first, then each enclosing level.
  function fieldCatalog(def, table, system) {
    const out = [], seen = {};
    function add(entry) { if (!seen[entry.name]) { seen[entry.name] = true; out.push(entry); } }
    let levels = [(def && Array.isArray(def.fields)) ? def.fields : []];
    (table ? String(table).split(".") : []).forEach(function (key) {
      const parent = levels[0].find(function (f) { return f && f.key === key && isTable(f); });
      levels.unshift(parent ? parent.fields : []);
    });
    levels.forEach(function (fields) {
      fields.forEach(function (f) {
        if (!f || typeof f.key !== "string" || !f.key) return;
        add(fieldEntry(f, f.key, ""));
        if (isTable(f)) {
          f.fields.forEach(function (c) {
            if (c && typeof c.key === "string" && c.key) add(fieldEntry(c, f.key + "." + c.key, labelOf(f.label) || f.key));
          });
        }
      });
    });
    (system || []).forEach(function (s) {
      add({kind: "field", name: s.key, type: s.type, label: labelOf(s.label), system: true,
        search: [s.key, s.label["zh-CN"], s.label.en].join("\n").toLowerCase()});
    });
    return out;
  }

  const BASE = (document.currentScript && document.currentScript.src || "").replace(/expr\.js(\?.*)?$/, "");
  let tryLoading = null;
  function loadTry() {
    if (QD.ExpressionTry) return Promise.resolve(QD.ExpressionTry);
    if (!tryLoading) {
      tryLoading = new Promise(function (resolve, reject) {
        const s = el("script", {src: (BASE || "/designer/static/designer/js/") + "expr_try.js"});
        s.onload = function () { resolve(QD.ExpressionTry); };
        s.onerror = function () { tryLoading = null; reject(new Error("expr_try.js")); };
        document.head.appendChild(s);
      });
    }
    return tryLoading;
  }

  // ------------------------------------------------------------------ positions
  function offsetOf(source, line, column) {
    const lines = source.split("\n");
    let off = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i += 1) off += lines[i].length + 1;
    return Math.min(off + Math.max(column - 1, 0), source.length);
  }
  function referencedNames(source) {
    const names = [];
    let m;
    NAMES.lastIndex = 0;
    while ((m = NAMES.exec(source)) !== null) {
      if (m[1] && !m[2] && names.indexOf(m[1]) < 0) names.push(m[1]);
    }
    return names;
  }

  // ------------------------------------------------------------------ the editor
  function attach(input, opts) {
    opts = opts || {};
    const endpoints = urls(opts);
    const wrap = el("div", {class: "qd-expr" + (input.tagName === "TEXTAREA" ? " qd-expr-multi" : " qd-expr-single")});
    input.parentNode.insertBefore(wrap, input);
    const mirror = el("div", {class: "qd-expr-mirror", "aria-hidden": "true"});
    const box = el("div", {class: "qd-expr-box"}, mirror);
    wrap.appendChild(box);
    box.appendChild(input);
    input.classList.add("qd-expr-input");
    input.setAttribute("spellcheck", "false");
    input.setAttribute("autocomplete", "off");
    const status = el("div", {class: "qd-expr-status", "aria-live": "polite"});
    const suggest = el("ul", {class: "qd-expr-suggest", role: "listbox", "data-testid": "expr-suggest", hidden: true});
    box.appendChild(suggest);
    wrap.appendChild(status);
    let tryPanel = null, tryButton = null;
    if (opts.tryIt !== false) {
      tryButton = el("button", {type: "button", class: "qd-expr-try-btn link", "data-testid": "expr-try",
        "aria-expanded": "false", onclick: function () { toggleTry(); }}, t("试一试", "Try it"));
      status.appendChild(tryButton);
    }
    const state = {seq: 0, timer: null, error: null, items: [], active: 0, range: null, catalog: null, values: {}};

    function formArg() {
      const f = typeof opts.form === "function" ? opts.form() : opts.form;
      if (f && typeof f === "object") return {definition: f};
      if (typeof f === "string" && f) return {form: f};
      return {};
    }
    function definition() {         // a key: the published form from the page's config, for names
      const f = typeof opts.form === "function" ? opts.form() : opts.form;
      if (f && typeof f === "object") return f;
      return typeof f === "string" ? pageForms()[f] || null : null;
    }
    function table() { return typeof opts.table === "function" ? opts.table() : opts.table || null; }

    // mirror: same box and font as the input, text transparent, the error range wavy-underlined
    function styleMirror() {
      const cs = window.getComputedStyle(input);
      ["fontFamily", "fontSize", "fontWeight", "letterSpacing", "lineHeight", "paddingTop", "paddingRight",
        "paddingBottom", "paddingLeft", "borderTopWidth", "borderRightWidth", "borderBottomWidth", "borderLeftWidth",
        "textIndent", "tabSize"].forEach(function (p) { mirror.style[p] = cs[p]; });
      mirror.style.top = input.offsetTop + "px";
      mirror.style.left = input.offsetLeft + "px";
      mirror.style.width = input.offsetWidth + "px";
      mirror.style.height = input.offsetHeight + "px";
    }
    function renderMirror() {
      const source = input.value;
      mirror.textContent = "";
      const err = state.error;
      if (!err) { mirror.appendChild(document.createTextNode(source)); return; }
      const start = offsetOf(source, err.line || 1, err.column || 1);
      let end = err.end_column ? offsetOf(source, err.line || 1, err.end_column) : start + 1;
      end = Math.max(Math.min(end, source.length), start);
      mirror.appendChild(document.createTextNode(source.slice(0, start)));
      const mark = el("span", {class: "qd-expr-wave", "data-testid": "expr-underline"}, end > start ? source.slice(start, end) : "\u00a0\u00a0");
      mirror.appendChild(mark);
      mirror.appendChild(document.createTextNode(source.slice(end)));
      syncScroll();
    }
    function syncScroll() { mirror.scrollTop = input.scrollTop; mirror.scrollLeft = input.scrollLeft; }

    // live check
    function showResult(result) {
      status.querySelectorAll(".qd-expr-msg").forEach(function (n) { n.remove(); });
      state.error = null;
      input.classList.remove("qd-expr-invalid");
      input.removeAttribute("aria-invalid");
      if (result && result.ok) {
        status.insertBefore(el("span", {class: "qd-expr-msg qd-expr-ok", "data-testid": "expr-ok"},
          "✓ " + (result.type ? t("结果：", "Result: ") + result.type : t("正确", "OK"))), tryButton);
      } else if (result && result.errors && result.errors.length) {
        state.error = result.errors[0];
        input.classList.add("qd-expr-invalid");
        input.setAttribute("aria-invalid", "true");
        const where = t("第 " + state.error.line + " 行第 " + state.error.column + " 列：",
          "Line " + state.error.line + ", column " + state.error.column + ": ");
        status.insertBefore(el("span", {class: "qd-expr-msg qd-expr-error", "data-testid": "expr-error", role: "alert"},
          where + state.error.message), tryButton);
      } else if (result && result.failed) {
        status.insertBefore(el("span", {class: "qd-expr-msg qd-expr-error", "data-testid": "expr-error"}, result.failed), tryButton);
      }
      renderMirror();
    }
    function check() {
      const source = input.value;
      const mine = ++state.seq;
      if (!source.trim()) { showResult(null); return Promise.resolve(null); }
      const body = Object.assign({expression: source}, formArg());
      if (table()) body.table = table();
      if (opts.expect) body.expect = opts.expect;
      const trigger = typeof opts.trigger === "function" ? opts.trigger() : opts.trigger;
      if (trigger && typeof trigger === "object" && !table()) body.trigger = trigger;   // a rule's names (old.…)
      return api("POST", endpoints.check, body).then(function (r) {
        if (mine !== state.seq) return null;
        const result = r.ok ? r.data : {failed: (r.data && r.data.error && r.data.error.message) || t("无法检查", "Cannot check")};
        showResult(result);
        return result;
      });
    }
    function scheduleCheck() {
      clearTimeout(state.timer);
      state.timer = setTimeout(check, 300);
    }

    // autocomplete
    function prefixAtCaret() {
      const caret = input.selectionStart === null ? input.value.length : input.selectionStart;
      const before = input.value.slice(0, caret);
      if (((before.match(/"/g) || []).length % 2) === 1) return null;      // inside a text literal
      const m = IDENT.exec(before);
      return m ? {start: caret - m[0].length, end: caret, text: m[0]} : null;
    }
    function matches(prefix, catalog) {
      const needle = prefix.toLowerCase();
      const fields = fieldCatalog(definition(), table(), catalog.system_fields).filter(function (f) {
        return f.search.indexOf(needle) >= 0;
      }).sort(function (a, b) { return (b.name.toLowerCase().startsWith(needle) ? 1 : 0) - (a.name.toLowerCase().startsWith(needle) ? 1 : 0); });
      const fns = (catalog.functions || []).filter(function (f) {
        return f.name.toLowerCase().startsWith(needle);
      }).map(function (f) { return {kind: "function", name: f.name, label: f.signature, doc: f.doc}; });
      return fields.concat(fns).slice(0, MAX_SUGGEST);
    }
    function openSuggest(force) {
      const range = prefixAtCaret();
      if (!range && !force) { closeSuggest(); return; }
      functionCatalog(endpoints.catalog).then(function (catalog) {
        const r = prefixAtCaret() || {start: input.selectionStart, end: input.selectionStart, text: ""};
        if (!r.text && !force) { closeSuggest(); return; }
        state.items = matches(r.text, catalog);
        state.range = r;
        state.active = 0;
        drawSuggest();
      });
    }
    function drawSuggest() {
      suggest.textContent = "";
      if (!state.items.length) { closeSuggest(); return; }
      state.items.forEach(function (item, i) {
        const li = el("li", {role: "option", class: "qd-expr-item qd-expr-" + item.kind + (i === state.active ? " is-active" : ""),
          "aria-selected": i === state.active ? "true" : "false", "data-name": item.name,
          onmousedown: function (ev) { ev.preventDefault(); state.active = i; accept(); }});
        if (item.kind === "field") {
          li.appendChild(el("span", {class: "qd-expr-item-label"}, item.label || item.name));
          li.appendChild(el("code", {class: "qd-expr-item-key"}, item.name));
          li.appendChild(el("span", {class: "qd-expr-item-type"}, item.type));
        } else {
          li.appendChild(el("code", {class: "qd-expr-item-sig"}, item.label));
          li.appendChild(el("span", {class: "qd-expr-item-doc"}, item.doc || ""));
        }
        suggest.appendChild(li);
      });
      suggest.style.top = (input.offsetTop + input.offsetHeight + 2) + "px";
      suggest.style.left = input.offsetLeft + "px";
      suggest.hidden = false;
      input.setAttribute("aria-expanded", "true");
      const active = suggest.children[state.active];
      if (active && active.scrollIntoView) active.scrollIntoView({block: "nearest"});
    }
    function closeSuggest() {
      suggest.hidden = true;
      state.items = [];
      input.setAttribute("aria-expanded", "false");
    }
    function accept() {
      const item = state.items[state.active], r = state.range;
      if (!item || !r) return;
      const value = input.value;
      let text = item.name;
      let caret = r.start + text.length;
      if (item.kind === "function" && value.charAt(r.end) !== "(") { text += "("; caret += 1; }
      else if (item.kind === "function") caret += 1;
      input.value = value.slice(0, r.start) + text + value.slice(r.end);
      input.setSelectionRange(caret, caret);
      closeSuggest();
      input.dispatchEvent(new Event("input", {bubbles: true}));
      input.dispatchEvent(new Event("change", {bubbles: true}));
      input.focus();
    }
    function onKey(ev) {
      if (ev.key === " " && ev.ctrlKey) { ev.preventDefault(); openSuggest(true); return; }
      if (suggest.hidden || !state.items.length) return;
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        const n = state.items.length;
        state.active = (state.active + (ev.key === "ArrowDown" ? 1 : n - 1)) % n;
        drawSuggest();
      } else if (ev.key === "Enter" || ev.key === "Tab") {
        ev.preventDefault();
        accept();
      } else if (ev.key === "Escape") {
        ev.preventDefault();
        ev.stopPropagation();
        closeSuggest();
      }
    }
    function onInput() {
      state.error = null;             // the old position no longer fits the text; the next check redraws it
      renderMirror();
      scheduleCheck();
      openSuggest(false);
      if (tryPanel) tryPanel.refresh();
    }
    function onBlur() { setTimeout(closeSuggest, 150); }

    // try it: the panel lives in expr_try.js, loaded the first time it is opened
    function toggleTry() {
      loadTry().then(function (Try) {
        if (!tryPanel) {
          tryPanel = Try.create({wrap: wrap, input: input, button: tryButton, values: state.values, api: api, el: el, t: t,
            catalog: function () { return functionCatalog(endpoints.catalog); }, fieldCatalog: fieldCatalog,
            definition: definition, table: table, formArg: formArg, evaluateUrl: endpoints.evaluate,
            referencedNames: referencedNames, keywords: KEYWORDS});
        }
        tryPanel.toggle();
      });
    }

    const listeners = [["input", onInput], ["keydown", onKey], ["blur", onBlur], ["scroll", syncScroll],
      ["click", function () { openSuggest(false); }], ["focus", styleMirror]];
    listeners.forEach(function (l) { input.addEventListener(l[0], l[1]); });
    const resize = function () { styleMirror(); };
    window.addEventListener("resize", resize);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    styleMirror();
    renderMirror();
    if (input.value.trim()) check();
    functionCatalog(endpoints.catalog);

    return {
      check: check,
      refresh: function () { styleMirror(); return check(); },
      destroy: function () {
        clearTimeout(state.timer);
        state.seq += 1;
        listeners.forEach(function (l) { input.removeEventListener(l[0], l[1]); });
        window.removeEventListener("resize", resize);
        input.classList.remove("qd-expr-input", "qd-expr-invalid");
        ["role", "aria-autocomplete", "aria-expanded", "aria-invalid"].forEach(function (a) { input.removeAttribute(a); });
        if (wrap.parentNode) { wrap.parentNode.insertBefore(input, wrap); wrap.remove(); }
      },
    };
  }

  QD.ExpressionEditor = {attach: attach, fieldCatalog: fieldCatalog, referencedNames: referencedNames};
})();
