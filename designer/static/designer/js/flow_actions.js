/* The automatic node's actions (the rule action shape, docs/rules.md): a list of actions, each
 * with a form for create_record / update_records / set_status / notify (field mappings through
 * the expression editor, over the flow's form) and a checked JSON box for the other action types.
 * QD.FlowActions = {section(node, api) → element}. Keys the form does not show are kept as they are.
 */
(function () {
  "use strict";
  var QD = window.QD;
  var el = function () { return QD.el.apply(null, arguments); };
  var EXPECT = {number: "number", decimal: "number", integer: "number", date: "date", datetime: "date",
                boolean: "boolean", text: "text", textarea: "text", select: "text", radio: "text", barcode: "text"};
  var FORMS_UI = ["create_record", "update_records", "set_status", "notify"];

  function P() { return QD.FlowPanel; }
  function formOf(api, key) { return (api.ctx.forms || []).find(function (f) { return f.key === key; }); }
  /* The fields an action may set: not computed (formula, serial number…) and not sub-tables. */
  function plainFields(form, api, computedToo) {
    var skip = (computedToo ? [] : api.choices.computed_field_types || []).concat(api.choices.subtable_field_types || ["subtable"]);
    return form ? (form.fields || []).filter(function (f) { return f && f.key && skip.indexOf(f.type) < 0; }) : [];
  }

  function formSelect(api, value, testid, onChange) {
    var list = (api.ctx.forms || []).map(function (f) { return {key: f.key, label: f.label}; });
    var sel = P().optionSelect(list, value, "key", testid, QD.t("选择表单…", "Choose a form…"));
    sel.addEventListener("change", function () { onChange(sel.value); });
    return sel;
  }

  /* {target field: expression} rows; expressions are over the flow's form. */
  function mappingEditor(obj, key, api, targetKey, testid) {
    var computedToo = key === "match";          // matching on a serial number is fine; setting one is not
    var box = el("div", {class: "qf-mapping", "data-testid": testid});
    function draw() {
      box.textContent = "";
      var map = obj[key] || {}, fields = plainFields(formOf(api, targetKey()), api, computedToo);
      Object.keys(map).forEach(function (name, i) {
        var target = fields.find(function (f) { return f.key === name; });
        var sel = P().optionSelect(fields.map(function (f) { return {key: f.key, label: f.label}; }), name, "key", testid + "-field-" + i);
        sel.addEventListener("change", function () {
          if (!sel.value || sel.value === name || has(map, sel.value)) { sel.value = name; return; }
          var next = {};
          Object.keys(map).forEach(function (k) { next[k === name ? sel.value : k] = map[k]; });
          obj[key] = next; api.changed(); draw();
        });
        var input = el("input", {type: "text", value: map[name], "data-testid": testid + "-expr-" + i,
                                 "aria-label": QD.t("表达式", "Expression")});
        input.addEventListener("input", function () { map[name] = input.value; api.changed(); });
        var del = el("button", {type: "button", class: "qf-del-row", title: QD.t("移除", "Remove"), "aria-label": QD.t("移除", "Remove"),
                                onclick: function () { delete map[name]; if (!Object.keys(map).length && key !== "values") delete obj[key]; api.changed(); draw(); }}, "×");
        box.appendChild(el("div", {class: "qf-map-row"}, sel, el("span", {class: "qf-arrow"}, "←"), el("div", {class: "qf-map-expr"}, input), del));
        P().attachExpr(api, input, target ? EXPECT[target.type] || null : null);
      });
      var free = fields.find(function (f) { return !has(map, f.key); });
      box.appendChild(el("button", {type: "button", class: "qf-link", "data-testid": testid + "-add", disabled: !free,
        onclick: function () { obj[key] = obj[key] || {}; obj[key][free.key] = ""; api.changed(); draw(); }},
        "+ " + QD.t("添加字段", "Add a field")));
    }
    draw();
    return {root: box, draw: draw};
  }

  function has(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }

  function createRecord(action, api, i) {
    var out = [];
    var mapping = mappingEditor(action, "values", api, function () { return action.form; }, "action-" + i + "-values");
    out.push(P().field(QD.t("在表单中新建", "Create in form"), formSelect(api, action.form, "action-" + i + "-form", function (v) {
      action.form = v; api.changed(); mapping.draw();
    })));
    if (!action.values) action.values = {};
    out.push(el("div", {class: "qf-field"}, el("span", {}, QD.t("字段取值", "Field values")), mapping.root));
    if (action.rows) out.push(el("p", {class: "muted"}, QD.t("子表行的设置已保留（在规则设计器中编辑）", "Sub-table row settings are kept (edit them in the rule designer)")));
    return out;
  }

  /* The records an action works on: target form, match (field = expression) and a filter.
   * ``onForm()`` runs when the target form changes (a values mapping over it redraws). */
  function targetEditor(action, api, i, required, onForm) {
    var box = el("div", {class: "qf-sub"});
    function draw() {
      box.textContent = "";
      var target = action.target;
      if (!target) return;
      var match = mappingEditor(target, "match", api, function () { return target.form; }, "action-" + i + "-match");
      box.appendChild(P().field(QD.t("目标表单", "Target form"), formSelect(api, target.form, "action-" + i + "-target", function (v) {
        target.form = v; api.changed(); match.draw();
        if (onForm) onForm();
      })));
      box.appendChild(el("div", {class: "qf-field"}, el("span", {}, QD.t("匹配条件（目标字段 = 表达式）", "Match (target field = expression)")), match.root));
      // and/or a condition over the target form's records, e.g. status = "open"
      var filter = el("input", {type: "text", value: target.filter || "", "data-testid": "action-" + i + "-filter",
                                "aria-label": QD.t("筛选条件", "Filter")});
      filter.addEventListener("input", function () {
        if (filter.value.trim()) target.filter = filter.value; else delete target.filter;
        api.changed();
      });
      box.appendChild(P().field(QD.t("另需满足（目标表单记录的条件，可选）", "Also only records where (a condition on the target form, optional)"), filter));
      P().attachExpr(api, filter, "boolean", function () { return target.form; });
    }
    if (!required) {
      var on = el("input", {type: "checkbox", checked: Boolean(action.target), "data-testid": "action-" + i + "-has-target"});
      on.addEventListener("change", function () {
        if (on.checked) action.target = {form: api.definition.form}; else delete action.target;
        api.changed(); draw();
      });
      return [el("label", {class: "qf-check"}, on, QD.t("作用于其他表单中匹配的记录（否则为本记录）", "Apply to matching records of a form (otherwise this record)")), box, draw()];
    }
    if (!action.target) action.target = {form: ""};
    draw();
    return [box];
  }

  function updateRecords(action, api, i) {
    if (!action.values) action.values = {};
    var mapping = mappingEditor(action, "values", api, function () { return (action.target || {}).form; }, "action-" + i + "-values");
    var out = targetEditor(action, api, i, true, mapping.draw);
    out.push(el("div", {class: "qf-field"}, el("span", {}, QD.t("改为", "Set")), mapping.root));
    return out;
  }

  function setStatus(action, api, i) {
    var status = el("input", {type: "text", value: action.status || "", pattern: "[a-z][a-z0-9_]{0,29}", "data-testid": "action-" + i + "-status",
                              placeholder: "frozen"});
    status.addEventListener("input", function () { action.status = status.value; api.changed(); });
    return [P().field(QD.t("状态（如 frozen）", "Status (e.g. frozen)"), status)].concat(targetEditor(action, api, i, false));
  }

  function checks(list, selected, testid, onChange) {
    return el("div", {class: "qf-checks", "data-testid": testid}, list.map(function (item) {
      var box = el("input", {type: "checkbox", checked: selected.indexOf(item.key) >= 0});
      box.addEventListener("change", function () {
        var next = selected.filter(function (k) { return k !== item.key; });
        if (box.checked) next.push(item.key);
        selected = next;
        onChange(next);
      });
      return el("label", {class: "qf-check"}, box, item.label);
    }));
  }

  function notify(action, api, i) {
    var to = action.to = action.to || {}, out = [];
    function setList(key) { return function (v) { if (v.length) to[key] = v; else delete to[key]; api.changed(); }; }
    out.push(el("div", {class: "qf-field"}, el("span", {}, QD.t("通知角色", "Roles")),
      checks((api.choices.roles || []).map(function (r) { return {key: r.key, label: QD.label(r.label)}; }), to.roles || [], "action-" + i + "-roles", setList("roles"))));
    out.push(el("div", {class: "qf-field"}, el("span", {}, QD.t("通知人员", "People")),
      checks((api.choices.users || []).map(function (u) { return {key: u.id, label: u.name}; }), to.users || [], "action-" + i + "-users", setList("users"))));
    var userFields = P().formFields(api).filter(function (f) { return f.type === "user"; });
    if (userFields.length) {
      out.push(el("div", {class: "qf-field"}, el("span", {}, QD.t("表单中的人员字段", "User fields")),
        checks(userFields.map(function (f) { return {key: f.key, label: QD.label(f.label)}; }), to.fields || [], "action-" + i + "-fields", setList("fields"))));
    }
    var sub = el("input", {type: "checkbox", checked: to.submitter === true, "data-testid": "action-" + i + "-submitter"});
    sub.addEventListener("change", function () { if (sub.checked) to.submitter = true; else delete to.submitter; api.changed(); });
    out.push(el("label", {class: "qf-check"}, sub, QD.t("提交人", "The submitter")));
    out.push(el("div", {class: "qf-field"}, el("span", {}, QD.t("渠道", "Channels")),
      checks([{key: "in_app", label: QD.t("站内", "In-app")}, {key: "email", label: QD.t("邮件", "E-mail")}],
             action.channels || ["in_app", "email"], "action-" + i + "-channels",
             function (v) { action.channels = v; api.changed(); })));
    ["subject", "body"].forEach(function (name) {
      var box = el(name === "body" ? "textarea" : "input", {type: "text", rows: "4", "data-testid": "action-" + i + "-" + name});
      box.value = action[name] || "";
      box.addEventListener("input", function () { if (box.value || name === "subject") action[name] = box.value; else delete action[name]; api.changed(); });
      out.push(P().field(name === "subject" ? QD.t("标题（可用 {{ 字段 }}）", "Subject (may use {{ field }})") : QD.t("正文", "Body"), box));
    });
    return out;
  }

  function jsonBox(action, api, i, list) {
    var box = el("textarea", {rows: "6", class: "qf-json", "data-testid": "action-" + i + "-json", spellcheck: "false"});
    var error = el("div", {class: "qf-json-error", role: "alert"});
    box.value = JSON.stringify(action, null, 2);
    box.addEventListener("input", function () {
      var value;
      try { value = JSON.parse(box.value); } catch (err) { error.textContent = QD.t("JSON 无效：", "Invalid JSON: ") + err.message; return; }
      if (!value || typeof value !== "object" || Array.isArray(value) || typeof value.type !== "string") {
        error.textContent = QD.t("应为含 type 的对象 {…}", "Expected an object {…} with a type"); return;
      }
      error.textContent = "";
      list[i] = value;
      api.changed();
    });
    return [el("p", {class: "muted"}, QD.t("此动作类型以 JSON 编辑（选项见规则文档）", "This action type is edited as JSON (see the rule docs for its options)")), box, error];
  }

  var FORMS = {create_record: createRecord, update_records: updateRecords, set_status: setStatus, notify: notify};

  function section(node, api) {
    var s = P().section(QD.t("自动执行的动作", "Actions run automatically"), "actions");
    if (!Array.isArray(node.actions)) node.actions = [];
    var list = node.actions;
    function draw() {
      s.body.textContent = "";
      list.forEach(function (action, i) {
        var type = (api.choices.action_types || []).find(function (t) { return t.type === action.type; });
        var build = FORMS[action.type] || jsonBox;
        var tools = el("span", {class: "qf-tools"},
          i > 0 ? el("button", {type: "button", class: "qf-move", title: QD.t("上移", "Move up"), "aria-label": QD.t("上移", "Move up"),
                                onclick: function () { list.splice(i - 1, 0, list.splice(i, 1)[0]); api.changed(); draw(); }}, "↑") : null,
          el("button", {type: "button", class: "qf-del-row", "data-testid": "action-" + i + "-remove", title: QD.t("删除动作", "Delete action"),
                        "aria-label": QD.t("删除动作", "Delete action"),
                        onclick: function () { list.splice(i, 1); api.changed(); draw(); }}, "×"));
        s.body.appendChild(el("div", {class: "qf-action", "data-testid": "action-" + i},
          el("div", {class: "qf-action-head"}, el("strong", {}, (i + 1) + ". " + (type ? QD.label(type.label) : action.type)), tools),
          build(action, api, i, list)));
      });
      var add = P().optionSelect((api.choices.action_types || []).map(function (t) {
        return {key: t.type, label: {"zh-CN": QD.label(t.label) + (FORMS_UI.indexOf(t.type) < 0 ? "（JSON）" : ""),
                                     en: QD.label(t.label) + (FORMS_UI.indexOf(t.type) < 0 ? " (JSON)" : "")}};
      }), "", "key", "action-add-type", QD.t("+ 添加动作…", "+ Add an action…"));
      add.addEventListener("change", function () {
        if (!add.value) return;
        var action = {type: add.value};
        if (add.value === "create_record") { action.form = ""; action.values = {}; }
        if (add.value === "notify") { action.to = {submitter: true}; action.subject = ""; }
        if (add.value === "set_status") action.status = "";
        list.push(action); api.changed(); draw();
      });
      s.body.appendChild(add);
    }
    draw();
    return s.root;
  }

  QD.FlowActions = {section: section};
})();
