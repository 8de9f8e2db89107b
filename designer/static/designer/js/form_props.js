/* Form designer, part 6: the properties panel — the selected field, the selected section, or the
 * form itself when nothing is selected — and the list of problems the last check found.
 */
(function () {
  "use strict";
  var QD = window.QD;
  var FD = QD.FD;
  var M = FD.model;
  var W = FD.widgets;
  var h = M.h;
  var t = M.t;

  function destroyBag(S) {
    (S.bag || []).forEach(function (handle) { try { handle.destroy(); } catch (e) { /* already gone */ } });
    S.bag = [];
  }

  function heading(text) { return h("h3", {class: "fd-props-heading", text: text}); }

  /* ---- field ---- */
  function fieldProps(S, entry) {
    var field = entry.field;
    var type = S.types[field.type] || {label: {"zh-CN": field.type, en: field.type}, options_schema: {}};
    var path = FD.canvas.pathOf(S, entry.card);
    var table = path.length > 1 ? path.slice(0, -1).join(".") : null;
    var level = FD.canvas.levelFields(S, entry.card.parentElement);
    var locked = M.isLocked(S.locked, path);
    var c = {type: type, table: table, level: level, bag: S.bag};
    var box = h("div", {class: "fd-props-field"});

    function set(name, value) {
      if (value === undefined) { delete field[name]; } else { field[name] = value; }
      FD.canvas.updateCard(S, entry.uid);
      S.ctx.changed();
    }

    box.appendChild(h("div", {class: "fd-props-type"}, h("span", {class: "fd-icon", text: type.icon || ""}), " " + M.label(type.label)));
    var keyInput;
    var keyError = h("div", {class: "fd-error", attrs: {role: "alert"}});
    box.appendChild(W.bilingual(field.label, function (v, lang) {
      field.label = v;
      if (lang === "en" && S.autoKey[entry.uid] && !locked) {
        field.key = M.keyFor(field, level);
        keyInput.value = field.key;
        keyError.textContent = "";
        FD.canvas.sync(S);
      }
      set("label", v);
    }, {testid: "prop-label", zhLabel: t("名称（中文）", "Label (Chinese)"), enLabel: t("名称（英文）", "Label (English)")}));

    keyInput = W.text(field.key, function (v) {
      var problem = M.keyProblem(v, level, field);
      keyError.textContent = problem || "";
      keyInput.classList.toggle("fd-invalid", !!problem);
      keyInput.setAttribute("aria-invalid", problem ? "true" : "false");
      if (!problem) {
        S.autoKey[entry.uid] = false;
        field.key = v;
        FD.canvas.sync(S);
        set("key", v);
      }
    }, {testid: "prop-key", code: true});
    keyInput.readOnly = locked;
    box.appendChild(W.row(t("键", "Key"), h("div", null, keyInput, keyError), locked
      ? t("该字段已发布，键不能再修改", "This field was published; its key is locked")
      : t("用于公式和接口；首次发布后不可修改", "Used in formulas and the API; locked once published")));

    var flagOpts = function (testid, yes, no, dflt) {
      return {testid: testid, yes: yes, no: no, dflt: dflt, form: function () { return S.def; }, table: table};
    };
    var behaviour = h("div", {class: "fd-prop-group"});
    if (!type.is_computed) {
      behaviour.appendChild(W.row(t("必填", "Required"), W.flag(field.required, function (v) { set("required", v); },
        flagOpts("prop-required", t("必填", "Required"), t("选填", "Optional"), false), S.bag)));
      behaviour.appendChild(W.row(t("只读", "Read-only"), W.flag(field.readonly, function (v) { set("readonly", v); },
        flagOpts("prop-readonly", t("只读", "Read-only"), t("可编辑", "Editable"), false), S.bag)));
    }
    behaviour.appendChild(W.row(t("显示", "Visible"), W.flag(field.visible, function (v) { set("visible", v); },
      flagOpts("prop-visible", t("显示", "Shown"), t("隐藏", "Hidden"), true), S.bag)));
    box.appendChild(heading(t("行为", "Behaviour")));
    box.appendChild(behaviour);

    var options = FD.options.typeOptions(S, field, set, c);
    if (options) { box.appendChild(heading(M.label(type.label) + " · " + t("设置", "settings"))); box.appendChild(options); }
    if (!type.is_computed && !type.is_subtable) { box.appendChild(FD.options.defaultValue(S, field, set, c)); }
    var limits = FD.options.limits(S, field, set, c);
    if (limits) { box.appendChild(heading(t("限制", "Limits"))); box.appendChild(limits); }

    box.appendChild(heading(t("帮助文字", "Help text")));
    box.appendChild(W.bilingual(field.help, function (v) { set("help", v); }, {testid: "prop-help", optional: true, multiline: true}));
    if (!type.is_computed) {
      box.appendChild(heading(t("校验规则", "Validations")));
      box.appendChild(W.validations(field.validations, function (list) { set("validations", list.length ? list : undefined); },
        {form: function () { return S.def; }, table: table}, S.bag));
    }
    box.appendChild(h("button", {class: "danger fd-delete", text: t("删除字段", "Delete field"), testid: "delete-field",
      attrs: {type: "button"}, on: {click: function () { FD.keys.deleteField(S, entry.uid); }}}));
    return box;
  }

  /* ---- section ---- */
  function sectionProps(S, el) {
    var section = S.sectionOf.get(el);
    var box = h("div", {class: "fd-props-section"});
    box.appendChild(W.bilingual(section.label, function (v) {
      section.label = v; FD.canvas.updateSection(S, el); S.ctx.changed();
    }, {testid: "section-label", zhLabel: t("分组名称（中文）", "Section name (Chinese)"), enLabel: t("分组名称（英文）", "Section name (English)")}));
    box.appendChild(W.row(t("列数", "Columns"), W.select([1, 2, 3].map(function (n) { return {value: String(n), label: String(n)}; }),
      String(section.columns || 1), function (v) { section.columns = Number(v); FD.canvas.updateSection(S, el); S.ctx.changed(); },
      {testid: "section-columns"})));
    function shift(dir) {
      var sibling = dir < 0 ? el.previousElementSibling : el.nextElementSibling;
      if (!sibling) { return; }
      S.el.sections.insertBefore(el, dir < 0 ? sibling : sibling.nextSibling);
      FD.canvas.afterStructureChange(S);
      FD.props.render(S);
    }
    box.appendChild(h("div", {class: "fd-row-tools"},
      h("button", {text: "↑ " + t("上移分组", "Move section up"), testid: "section-up", attrs: {type: "button", disabled: !el.previousElementSibling},
        on: {click: function () { shift(-1); }}}),
      h("button", {text: "↓ " + t("下移分组", "Move section down"), testid: "section-down", attrs: {type: "button", disabled: !el.nextElementSibling},
        on: {click: function () { shift(1); }}})));
    box.appendChild(h("button", {class: "danger fd-delete", text: t("删除分组（字段移到未分组）", "Delete section (its fields stay, outside sections)"),
      testid: "delete-section", attrs: {type: "button"}, on: {click: function () { FD.keys.deleteSection(S, el); }}}));
    return box;
  }

  /* ---- form ---- */
  function formProps(S) {
    var def = S.def;
    var box = h("div", {class: "fd-props-form"});
    function set(name, value) {
      if (value === undefined || value === "") { delete def[name]; } else { def[name] = value; }
      S.ctx.changed();
    }
    box.appendChild(W.bilingual(def.label, function (v) { set("label", v); },
      {testid: "form-label", zhLabel: t("表单名称（中文）", "Form name (Chinese)"), enLabel: t("表单名称（英文）", "Form name (English)")}));
    box.appendChild(heading(t("说明", "Description")));
    box.appendChild(W.bilingual(def.description, function (v) { set("description", v); }, {testid: "form-description", optional: true, multiline: true}));
    box.appendChild(W.row(t("记录编号规则", "Record numbering"), W.text(def.numbering, function (v) { set("numbering", v); },
      {testid: "form-numbering", code: true, placeholder: "NCR-{YYYY}-{0000}"}),
      t("{YYYY}/{MM}/{DD} 为日期，{0000} 为连续序号", "{YYYY}/{MM}/{DD} are the date, {0000} a gap-free number")));
    box.appendChild(W.row(t("记录标题模板", "Record title template"), W.text(def.title_template, function (v) { set("title_template", v); },
      {testid: "form-title-template", placeholder: "{lot_no} · {supplier}"}),
      t("用 {字段键} 插入字段值", "Insert field values with {field_key}")));
    return box;
  }

  function render(S) {
    destroyBag(S);
    var pane = S.el.props;
    pane.textContent = "";
    var sel = S.selected;
    var title;
    var body;
    if (sel && sel.kind === "field" && S.entries.has(sel.uid)) {
      title = t("字段属性", "Field properties");
      body = fieldProps(S, S.entries.get(sel.uid));
    } else if (sel && sel.kind === "section" && sel.el.isConnected) {
      title = t("分组属性", "Section properties");
      body = sectionProps(S, sel.el);
    } else {
      title = t("表单属性", "Form properties");
      body = formProps(S);
    }
    pane.appendChild(h("h2", {class: "fd-pane-title", text: title}));
    S.el.propProblems = h("div", {class: "fd-props-problems"});
    pane.appendChild(S.el.propProblems);
    pane.appendChild(body);
    renderProblems(S);
  }

  /* The problems of the selected field (or, with nothing selected, all of them, each a link to
   * its field). Updated on its own after every check so typing in the panel is not disturbed. */
  function renderProblems(S) {
    var box = S.el.propProblems;
    if (!box) { return; }
    box.textContent = "";
    var sel = S.selected;
    var all = S.problems || [];
    var shown = sel && sel.kind === "field" ? all.filter(function (p) { return p.uid === sel.uid; })
      : (sel ? [] : all);
    if (!shown.length) { return; }
    var list = h("ul", {class: "fd-problem-list", testid: sel ? "field-problem-list" : "field-problems"});
    shown.forEach(function (p) {
      var where = !sel && p.field ? (M.label(p.field.label) || p.field.key) + ": " : "";
      var item = h("li", {text: where + p.message});
      if (!sel && p.uid) {
        item.classList.add("fd-clickable");
        item.setAttribute("tabindex", "0");
        var go = function () { FD.canvas.select(S, {kind: "field", uid: p.uid}); S.entries.get(p.uid).card.focus(); };
        item.addEventListener("click", go);
        item.addEventListener("keydown", function (e) { if (e.key === "Enter") { go(); } });
      }
      list.appendChild(item);
    });
    box.appendChild(h("h3", {class: "fd-props-heading fd-error", text: t("问题", "Problems") + " (" + shown.length + ")"}));
    box.appendChild(list);
  }

  FD.props = {render: render, renderProblems: renderProblems};
}());
