/* The form designer: registers the "form" editor with the designer shell (core.js).
 *
 * Scripts, in order: vendor/sortablejs/Sortable.min.js, form_model.js, form_widgets.js,
 * form_canvas.js, form_keys.js, form_options.js, form_props.js, form_preview.js, this file.
 * Three panes: palette (field types from the engine's registry), canvas (layout sections, the
 * unsectioned zone, field cards, sub-tables with their own drop zone) and properties; plus an
 * optional preview pane. The editor mutates ctx.definition in place and calls ctx.changed().
 */
(function () {
  "use strict";
  var QD = window.QD;
  var FD = QD.FD;
  var M = FD.model;
  var h = M.h;
  var t = M.t;

  function paletteUrl(config) {
    var draft = (config.urls && config.urls.draft) || "/designer/api/drafts";
    return draft.split("/api/drafts/")[0] + "/api/field-types";
  }

  function loadPalette(config) {
    var embedded = config.extra && config.extra.field_types;
    if (embedded && embedded.items) { return Promise.resolve(embedded); }
    return QD.api("GET", paletteUrl(config)).then(function (res) {
      if (!res.ok) { throw new Error((res.data && res.data.error && res.data.error.message) || String(res.status)); }
      return res.data;
    });
  }

  function layout(S) {
    var root = S.root;
    root.textContent = "";
    root.classList.add("fd-root");
    S.el.palette = h("aside", {class: "fd-palette", testid: "palette", attrs: {"aria-label": t("字段类型", "Field types")}});
    S.el.canvas = h("div", {class: "fd-canvas-body"});
    S.el.props = h("aside", {class: "fd-props", testid: "props", attrs: {"aria-label": t("属性", "Properties")}});
    S.el.live = h("div", {class: "fd-sr-only", testid: "announce", attrs: {"aria-live": "polite", role: "status"}});
    S.el.undoText = h("span");
    S.el.undoButton = h("button", {text: t("撤销", "Undo") + " (Ctrl+Z)", testid: "undo", attrs: {type: "button"}});
    S.el.undoClose = h("button", {class: "fd-icon-btn", text: "×", attrs: {type: "button", "aria-label": t("关闭", "Close")}});
    S.el.undoBar = h("div", {class: "fd-undo", attrs: {hidden: true, role: "status"}}, S.el.undoText, S.el.undoButton, S.el.undoClose);
    FD.preview.build(S);
    var tools = h("div", {class: "fd-canvas-tools", attrs: {role: "toolbar", "aria-label": t("画布工具", "Canvas tools")}},
      h("button", {class: "fd-tool", text: "+ " + t("添加分组", "Add section"), testid: "add-section",
        attrs: {type: "button"}, on: {click: function () { addSection(S); }}}),
      h("span", {class: "fd-hint", text: t("Alt+↑/↓ 移动选中的字段，Delete 删除", "Alt+↑/↓ moves the focused field, Delete removes it")}),
      S.el.previewToggle);
    var canvas = h("main", {class: "fd-canvas", testid: "canvas", attrs: {"aria-label": t("表单画布", "Form canvas")}},
      tools, S.el.undoBar, S.el.canvas);
    root.appendChild(S.el.palette);
    root.appendChild(canvas);
    root.appendChild(S.el.previewPane);
    root.appendChild(S.el.props);
    root.appendChild(S.el.live);
    S.el.canvas.addEventListener("click", function (e) {
      var card = e.target.closest(".fd-card");
      if (card) {
        FD.canvas.select(S, {kind: "field", uid: card.getAttribute("data-uid")});
      } else if (!e.target.closest(".fd-section")) {
        FD.canvas.select(S, null);
      }
    });
  }

  function addSection(S) {
    var sections = M.ensureLayout(S.def);
    var n = sections.length + 1;
    var section = {key: M.sectionKey(sections), label: {"zh-CN": "分组 " + n, en: "Section " + n}, columns: 1, fields: []};
    sections.push(section);
    var el = FD.canvas.buildSection(S, section);
    S.el.sections.appendChild(el);
    FD.canvas.afterStructureChange(S);
    FD.canvas.select(S, {kind: "section", el: el});
    var first = S.el.props.querySelector("input");
    if (first) { first.focus(); first.select(); }
  }

  /* Problems from the check: paths like /fields/3/formula or $.fields[3].formula. */
  function showProblems(S, list) {
    var byField = new Map();
    S.entries.forEach(function (entry) { byField.set(entry.field, entry.uid); });
    S.problems = (list || []).map(function (p) {
      var parsed = M.parseProblemPath(p.path || "");
      var field = parsed.indexes.length ? M.fieldAt(S.def, parsed.indexes) : null;
      var message = typeof p.message === "string" ? p.message : M.label(p.message);
      return {path: p.path, message: message, field: field, uid: field ? byField.get(field) : null};
    });
    Array.prototype.forEach.call(S.root.querySelectorAll(".fd-has-problem"), function (card) {
      card.classList.remove("fd-has-problem");
      var note = card.querySelector(":scope > .fd-card-problem");
      note.hidden = true; note.textContent = "";
    });
    S.problems.forEach(function (p) {
      if (!p.uid) { return; }
      var card = S.entries.get(p.uid).card;
      var note = card.querySelector(":scope > .fd-card-problem");
      if (!card.classList.contains("fd-has-problem")) { note.textContent = p.message; }
      card.classList.add("fd-has-problem");
      note.hidden = false;
    });
    FD.props.renderProblems(S);
  }

  function start(S, definition) {
    S.def = definition;
    S.autoKey = {};
    S.selected = null;
    FD.canvas.renderCanvas(S);
    FD.canvas.select(S, null);
  }

  function mount(root, ctx) {
    var config = ctx.config || {};
    var S = {ctx: ctx, root: root, el: {}, sortables: [], entries: new Map(), sectionOf: new WeakMap(), bag: [],
      locked: (config.draft && config.draft.published_keys) || [], problems: [], ready: false, pending: null};
    var editor = {
      showProblems: function (list) { if (S.ready) { showProblems(S, list); } else { S.pending = list; } },
      reload: function (definition) {
        S.undo = [];
        if (S.ready) { start(S, definition); FD.keys.renderUndo(S); FD.preview.reload(S); } else { S.def = definition; }
      },
      beforePublish: function () { if (S.ready) { FD.canvas.sync(S); } return true; },
      state: S
    };
    // once published, every field's key is locked (sub-table columns as "table.column")
    document.addEventListener("qd:published", function () {
      (function walk(fields, prefix) {
        (fields || []).forEach(function (f) {
          if (f && f.key && S.locked.indexOf(prefix + f.key) < 0) { S.locked.push(prefix + f.key); }
          if (f && Array.isArray(f.fields)) { walk(f.fields, prefix + f.key + "."); }
        });
      }(S.def && S.def.fields, ""));
      if (S.ready) { FD.props.render(S); }
    });
    root.textContent = t("正在加载字段类型…", "Loading field types…");
    // the shell waits for `ready` before it marks the designer interactive
    editor.ready = loadPalette(config).then(function (palette) {
      S.palette = palette;
      S.types = {};
      palette.items.forEach(function (item) { S.types[item.type] = item; });
      M.setKeyRules(palette);
      layout(S);
      FD.keys.install(S);
      start(S, S.def || ctx.definition);
      S.ready = true;
      if (S.pending) { showProblems(S, S.pending); S.pending = null; }
    }).catch(function (err) {
      root.textContent = t("无法加载字段类型：", "Cannot load the field types: ") + err.message;
    });
    return editor;
  }

  QD.registerEditor("form", {mount: mount});
}());
