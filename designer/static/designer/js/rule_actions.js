/* The rule designer's "Then" section: the ordered actions (add, remove, move up/down) and a proper
 * form per action type — create_record (target form, then one mapping row per target field: label,
 * type, required mark, an expression checked against the rule's form with the target field's type;
 * sub-table rows from a source sub-table), update_records (target form, match, filter, values),
 * set_status, start_flow; notify and call_webhook live in rule_notify.js; any other type gets the
 * generic form built from its option schema. Adds QDRule.actionsSection, QDRule.mappingTable.
 */
(function () {
  "use strict";
  var QD = window.QD, R = window.QDRule, el = R.el;
  var SYSTEM_MATCH = [{key: "id", label: {"zh-CN": "记录 ID", en: "Record id"}, expect: "number"},
    {key: "serial_no", label: {"zh-CN": "编号", en: "Number"}, expect: "text"},
    {key: "status", label: {"zh-CN": "状态", en: "Status"}, expect: "text"},
    {key: "created_by", label: {"zh-CN": "创建人", en: "Created by"}, expect: null}];

  R.actionForms = R.actionForms || {};

  function typeText(f) {
    return f.type + (f.expect ? " → " + f.expect : "");
  }

  // target field ← expression rows. opts: {fields, path, form (scope of the expressions), table,
  // markRequired, allFields (list every writable field), testPrefix}
  R.mappingTable = function (scope, values, opts) {
    var fields = (opts.fields || []).filter(function (f) { return f.writable; });
    var box = el("div", {class: "qr-map", "data-qr-path": opts.path});
    var table = el("div", {class: "qr-map-rows"});
    box.appendChild(table);
    function shown(f) { return opts.allFields || (f.key in values) || (opts.markRequired && f.required); }
    function row(f) {
      var here = opts.path + "/" + f.key;
      return el("div", {class: "qr-map-row", "data-qr-path": here, "data-testid": "map-row-" + f.key},
        el("div", {class: "qr-map-target"}, el("span", {class: "qr-map-label"}, QD.label(f.label)),
          f.required && opts.markRequired ? el("span", {class: "qr-req", title: QD.t("必填", "Required")}, " *") : null,
          el("span", {class: "qr-map-type"}, typeText(f))),
        el("span", {class: "qr-map-arrow", "aria-hidden": "true"}, "←"),
        R.expr(scope, values[f.key], function (v) {
          if (v === undefined) delete values[f.key]; else values[f.key] = v;
          scope.changed();
        }, {form: opts.form, table: opts.table || null, expect: f.expect, testid: (opts.testPrefix || "map-") + f.key,
          placeholder: f.required && opts.markRequired ? QD.t("必填：请填写表达式", "Required: write an expression") : ""}),
        R.button("×", function () { delete values[f.key]; scope.changed(); scope.render(); },
          {title: QD.t("不赋值", "Do not set"), "aria-label": QD.t("移除", "Remove") + " " + QD.label(f.label)}));
    }
    fields.filter(shown).forEach(function (f) { table.appendChild(row(f)); });
    var rest = fields.filter(function (f) { return !shown(f); });
    if (!fields.length) table.appendChild(el("div", {class: "qr-muted"}, QD.t("目标表单没有可赋值的字段", "The target form has no field that takes a value")));
    if (rest.length) {
      box.appendChild(el("div", {class: "qr-add-row"}, R.select([{value: "", text: QD.t("+ 为字段赋值…", "+ Set a field…")}].concat(
        rest.map(function (f) { return {value: f.key, text: QD.label(f.label) + " (" + f.key + ")"}; })), "", function (key) {
        if (!key) return;
        values[key] = "";
        scope.changed();
        scope.render();
        var input = scope.root.querySelector('[data-testid="' + (opts.testPrefix || "map-") + key + '"]');
        if (input) input.focus();
      }, {"data-testid": (opts.testPrefix || "") + "add-mapping"})));
    }
    return box;
  };

  function targetForm(scope, action, path, onchange) {
    return R.field({label: QD.t("目标表单", "Target form"), path: path, required: true},
      R.select(R.formItems(scope.choices, "—"), action.form, onchange, {"data-testid": "action-form"}));
  }

  function subRows(scope, action, target, i) {
    var box = el("div", {class: "qr-subrows"});
    var sources = ((R.formOf(scope.choices, scope.definition.form) || {}).fields || []).filter(function (f) { return f.type === "subtable"; });
    (target.fields || []).filter(function (f) { return f.type === "subtable"; }).forEach(function (sub) {
      var here = "/actions/" + i + "/rows/" + sub.key;
      var rows = action.rows || {};
      var spec = rows[sub.key];
      var on = el("input", {type: "checkbox", checked: Boolean(spec), "data-testid": "rows-" + sub.key});
      on.addEventListener("change", function () {
        action.rows = action.rows || {};
        if (on.checked) action.rows[sub.key] = {values: {}}; else delete action.rows[sub.key];
        if (!Object.keys(action.rows).length) delete action.rows;
        scope.changed();
        scope.render();
      });
      var block = el("div", {class: "qr-subrow", "data-qr-path": here},
        el("label", {class: "qr-check"}, on, " ", QD.t("填写子表“", "Fill the sub-table '") + QD.label(sub.label) + QD.t("”", "'")));
      if (spec) {
        block.appendChild(R.field({label: QD.t("行来自", "Rows from"), path: here + "/from"},
          R.select([{value: "", text: QD.t("只写一行", "One row")}].concat(sources.map(function (s) {
            return {value: s.key, text: QD.t("触发记录的子表 ", "each row of ") + QD.label(s.label)};
          })), spec.from, function (v) { if (v) spec.from = v; else delete spec.from; scope.changed(); scope.render(); })));
        if (spec.from) {
          block.appendChild(R.field({label: QD.t("只取满足条件的行", "Only rows where"), path: here + "/where"},
            R.expr(scope, spec.where, function (v) { if (v === undefined) delete spec.where; else spec.where = v; scope.changed(); },
              {form: scope.definition.form, table: spec.from, expect: "boolean"})));
        }
        spec.values = spec.values || {};
        block.appendChild(R.mappingTable(scope, spec.values, {fields: sub.fields || [], path: here + "/values",
          form: scope.definition.form, table: spec.from || null, markRequired: true, testPrefix: "map-" + sub.key + "-"}));
      }
      box.appendChild(block);
    });
    return box;
  }

  R.actionForms.create_record = function (scope, action, i) {
    var box = el("div");
    box.appendChild(targetForm(scope, action, "/actions/" + i + "/form", function (v) {
      if (v) action.form = v; else delete action.form;
      action.values = {};
      delete action.rows;
      scope.changed();
      scope.render();
    }));
    var target = R.formOf(scope.choices, action.form);
    if (!target) return box;
    action.values = action.values || {};
    box.appendChild(R.field({label: QD.t("字段赋值（目标字段 ← 表达式，按触发记录计算）", "Field mapping (target field ← expression over the triggering record)"),
      path: "/actions/" + i + "/values"}, R.mappingTable(scope, action.values, {fields: target.fields, path: "/actions/" + i + "/values",
      form: scope.definition.form, markRequired: true})));
    box.appendChild(subRows(scope, action, target, i));
    return box;
  };

  // {form, match, filter}: which records of a target form
  R.targetBlock = function (scope, target, path) {
    var box = el("div", {class: "qr-target"});
    box.appendChild(targetForm(scope, target, path + "/form", function (v) {
      if (v) target.form = v; else delete target.form;
      target.match = {};
      scope.changed();
      scope.render();
    }));
    var form = R.formOf(scope.choices, target.form);
    if (!form) return box;
    target.match = target.match || {};
    var fields = (form.fields || []).filter(function (f) { return f.type !== "subtable"; })
      .map(function (f) { return Object.assign({}, f, {writable: true, required: false}); })
      .concat(SYSTEM_MATCH.map(function (s) { return Object.assign({type: "system", writable: true}, s); }));
    box.appendChild(R.field({label: QD.t("匹配（目标字段 = 表达式，全部满足）", "Match (target field = expression, all of them)"), path: path + "/match"},
      R.mappingTable(scope, target.match, {fields: fields, path: path + "/match", form: scope.definition.form, testPrefix: "match-"})));
    box.appendChild(R.field({label: QD.t("另加筛选条件（按目标表单的字段）", "Also filter (over the target form's fields)"), path: path + "/filter"},
      R.expr(scope, target.filter, function (v) { if (v === undefined) delete target.filter; else target.filter = v; scope.changed(); },
        {form: target.form, expect: "boolean", testid: "target-filter"})));
    return box;
  };

  R.actionForms.update_records = function (scope, action, i) {
    action.target = action.target || {};
    var box = el("div", null, R.targetBlock(scope, action.target, "/actions/" + i + "/target"));
    var form = R.formOf(scope.choices, action.target.form);
    if (form) {
      action.values = action.values || {};
      box.appendChild(R.field({label: QD.t("改为（目标字段 ← 表达式）", "Set (target field ← expression)"), path: "/actions/" + i + "/values", required: true},
        R.mappingTable(scope, action.values, {fields: form.fields, path: "/actions/" + i + "/values", form: scope.definition.form})));
    }
    return box;
  };

  R.actionForms.set_status = function (scope, action, i) {
    var box = el("div");
    box.appendChild(R.field({label: QD.t("状态（如 frozen 冻结、released 放行）", "Status (e.g. frozen, released)"), path: "/actions/" + i + "/status", required: true},
      R.input(action.status, function (v) { if (v === undefined) delete action.status; else action.status = v; scope.changed(); },
        {"data-testid": "action-status", pattern: "[a-z][a-z0-9_]{0,29}"})));
    var which = R.select([{value: "trigger", text: QD.t("触发记录本身", "The triggering record")},
      {value: "target", text: QD.t("另一表单中匹配的记录", "Matching records of a form")}], action.target ? "target" : "trigger", function (v) {
      if (v === "target") action.target = {}; else delete action.target;
      scope.changed();
      scope.render();
    }, {"data-testid": "status-which"});
    box.appendChild(R.field({label: QD.t("哪些记录", "Which records"), path: "/actions/" + i + "/target"}, which));
    if (action.target) box.appendChild(R.targetBlock(scope, action.target, "/actions/" + i + "/target"));
    return box;
  };

  R.actionForms.start_flow = function (scope, action, i) {
    var box = el("div");
    box.appendChild(R.field({label: QD.t("在哪条记录上", "On which record"), path: "/actions/" + i + "/record"},
      R.select([{value: "trigger", text: QD.t("触发记录", "The triggering record")},
        {value: "created", text: QD.t("前面动作新建的记录", "The record an earlier action created")}], action.record || "trigger", function (v) {
        if (v === "trigger") delete action.record; else action.record = v;
        delete action.flow;
        scope.changed();
        scope.render();
      }, {"data-testid": "flow-record"})));
    var formKey = scope.definition.form;
    if (action.record === "created") {
      var before = scope.definition.actions.slice(0, i).filter(function (a) { return a.type === "create_record" && a.form; });
      formKey = before.length ? before[before.length - 1].form : null;
    }
    var flows = R.flowsOf(scope.choices, formKey || "\u0000");
    box.appendChild(R.field({label: QD.t("流程（不选 = 表单的默认流程）", "Flow (none = the form's default flow)"), path: "/actions/" + i + "/flow"},
      R.select([{value: "", text: "—"}].concat(flows.map(function (f) { return {value: f.key, text: QD.label(f.label) + " (" + f.key + ")"}; })),
        action.flow, function (v) { if (v) action.flow = v; else delete action.flow; scope.changed(); }, {"data-testid": "action-flow"})));
    return box;
  };

  function move(scope, from, to) {
    var list = scope.definition.actions;
    if (to < 0 || to >= list.length) return;
    list.splice(to, 0, list.splice(from, 1)[0]);
    scope.changed();
    scope.render();
    var card = scope.root.querySelector('[data-testid="action-' + to + '"] .qr-card-head button');
    if (card) card.focus();
  }

  function card(scope, action, i) {
    var info = ((scope.choices && scope.choices.actions) || []).find(function (a) { return a.type === action.type; });
    var count = scope.definition.actions.length;
    var head = el("div", {class: "qr-card-head"},
      el("span", {class: "qr-card-no"}, String(i + 1)),
      el("span", {class: "qr-card-title"}, info ? QD.label(info.label) : action.type),
      el("span", {class: "qr-card-tools"},
        R.button("↑", function () { move(scope, i, i - 1); }, {disabled: i === 0, title: QD.t("上移", "Move up"), "data-testid": "action-up-" + i}),
        R.button("↓", function () { move(scope, i, i + 1); }, {disabled: i === count - 1, title: QD.t("下移", "Move down"), "data-testid": "action-down-" + i}),
        R.button("×", function () {
          scope.definition.actions.splice(i, 1);
          scope.changed();
          scope.render();
        }, {title: QD.t("删除此动作", "Remove this action"), class: "qr-btn qr-danger", "data-testid": "remove-action-" + i})));
    var form = R.actionForms[action.type];
    var body = form ? form(scope, action, i)
      : info ? R.schemaForm(scope, action, info.options, info.required, "/actions/" + i, scope.definition.form)
        : el("div", {class: "qr-local-error"}, QD.t("未知的动作类型", "Unknown action type"));
    return el("div", {class: "qr-card", "data-testid": "action-" + i, "data-qr-path": "/actions/" + i, "data-type": action.type}, head, body);
  }

  R.actionsSection = function (scope) {
    var def = scope.definition;
    def.actions = Array.isArray(def.actions) ? def.actions : [];
    var section = el("section", {class: "qr-section qr-then", "data-qr-path": "/actions"},
      el("h3", {class: "qr-step"}, el("span", {class: "qr-step-tag"}, QD.t("就", "Then")), QD.t("执行动作（按顺序）", "Actions (in order)")));
    var list = el("div", {class: "qr-cards", "data-testid": "rule-actions"});
    def.actions.forEach(function (action, i) { list.appendChild(card(scope, action, i)); });
    if (!def.actions.length) list.appendChild(el("div", {class: "qr-empty"}, QD.t("还没有动作：至少添加一个。", "No actions yet: add at least one.")));
    section.appendChild(list);
    var types = ((scope.choices && scope.choices.actions) || []).map(function (a) { return {value: a.type, text: QD.label(a.label)}; });
    var picker = R.select(types, types.length ? types[0].value : "", function () {}, {"data-testid": "add-action-type",
      "aria-label": QD.t("动作类型", "Action type")});
    section.appendChild(el("div", {class: "qr-add-action"}, picker, R.button(QD.t("+ 添加动作", "+ Add action"), function () {
      var action = {type: picker.value};
      if (action.type === "notify") action.channels = ["in_app", "email"];
      def.actions.push(action);
      scope.changed();
      scope.render();
      var added = scope.root.querySelector('[data-testid="action-' + (def.actions.length - 1) + '"]');
      if (added && added.scrollIntoView) added.scrollIntoView({block: "nearest"});
    }, {class: "qr-btn qr-primary", "data-testid": "add-action"})));
    return section;
  };
})();
