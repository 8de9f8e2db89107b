/* The rule designer's "When" and "If" sections: the rule's form, the trigger type and its options
 * (fields for field_changed; flow, nodes and outcome for flow triggers; cron with the next run times
 * for schedules; SPC options; inbound webhook fields; a generic form for add-on triggers), and the
 * condition (an expression giving true/false). Adds QDRule.triggerSection / QDRule.conditionSection.
 */
(function () {
  "use strict";
  var QD = window.QD, R = window.QDRule, el = R.el;
  var FLOW = {flow_node_entered: true, flow_node_completed: true, flow_node_overdue: true};
  var KNOWN = {record_created: 1, record_updated: 1, record_deleted: 1, field_changed: 1, flow_node_entered: 1,
    flow_node_completed: 1, flow_node_overdue: 1, schedule: 1, spc_violation: 1, webhook: 1};
  var PAYLOAD_TYPES = ["text", "number", "boolean", "date", "datetime", "list"];

  function triggerInfo(scope, type) {
    return ((scope.choices && scope.choices.triggers) || []).find(function (t) { return t.type === type; }) || null;
  }

  function setOption(scope, name, value, rerender) {
    var trig = scope.definition.trigger;
    if (value === undefined || value === null || (Array.isArray(value) && !value.length)) delete trig[name];
    else trig[name] = value;
    scope.changed();
    if (rerender) scope.render();
  }

  function numberFields(form) {          // number fields and sub-table number columns ("items.value")
    var out = [];
    ((form && form.fields) || []).forEach(function (f) {
      if (f.expect === "number" && f.type !== "subtable") out.push({value: f.key, text: QD.label(f.label) + " (" + f.key + ")"});
      (f.fields || []).forEach(function (c) {
        if (c.expect === "number") out.push({value: f.key + "." + c.key, text: QD.label(f.label) + " › " + QD.label(c.label) + " (" + f.key + "." + c.key + ")"});
      });
    });
    return out;
  }

  function flowOptions(scope, box, trig) {
    var flows = R.flowsOf(scope.choices, scope.definition.form);
    box.appendChild(R.field({label: QD.t("流程", "Flow"), path: "/trigger/flow", required: true},
      R.select([{value: "", text: "—"}].concat(flows.map(function (f) { return {value: f.key, text: QD.label(f.label) + " (" + f.key + ")"}; })),
        trig.flow, function (v) { delete trig.nodes; setOption(scope, "flow", v || undefined, true); }, {"data-testid": "trigger-flow"})));
    var flow = flows.find(function (f) { return f.key === trig.flow; });
    if (flow) {
      var nodes = flow.nodes.filter(function (n) { return n.type !== "start" && n.type !== "end" && n.type !== "join"; });
      box.appendChild(R.field({label: QD.t("节点（不选 = 任意节点）", "Nodes (none = any node)"), path: "/trigger/nodes"},
        R.checks(nodes.map(function (n) { return {value: n.id, text: QD.label(n.label) + " (" + n.id + ")"}; }), trig.nodes,
          function (v) { setOption(scope, "nodes", v); }, "trigger-nodes")));
    }
    if (trig.type === "flow_node_completed") {
      box.appendChild(R.field({label: QD.t("结果", "Outcome"), path: "/trigger/outcome"},
        R.select([{value: "any", text: QD.t("任意", "Any")}, {value: "approved", text: QD.t("同意", "Approved")},
          {value: "rejected", text: QD.t("拒绝", "Rejected")}], trig.outcome || "any",
          function (v) { setOption(scope, "outcome", v === "any" ? undefined : v); }, {"data-testid": "trigger-outcome"})));
    }
  }

  function scheduleOptions(scope, box, trig) {
    var hint = el("ul", {class: "qr-cron-hint", "data-testid": "cron-hint", "aria-live": "polite"});
    var timer = null;
    function refresh() {
      clearTimeout(timer);
      timer = setTimeout(async function () {
        hint.textContent = "";
        if (!trig.cron) return;
        var url = scope.urls.cron + "?cron=" + encodeURIComponent(trig.cron) + "&timezone=" + encodeURIComponent(trig.timezone || "");
        var reply = await QD.api("GET", url);
        hint.textContent = "";
        if (!reply.ok) { hint.appendChild(el("li", {class: "qr-local-error"}, QD.errorText(reply))); return; }
        if (!reply.data.ok) { hint.appendChild(el("li", {class: "qr-local-error"}, reply.data.message)); return; }
        hint.appendChild(el("li", {class: "qr-muted"}, QD.t("接下来的运行时间（" + reply.data.zone + "）：", "Next runs (" + reply.data.zone + "):")));
        reply.data.next.forEach(function (iso) { hint.appendChild(el("li", null, iso.replace("T", " ").slice(0, 16))); });
      }, 300);
    }
    box.appendChild(R.field({label: QD.t("时间（cron：分 时 日 月 周）", "Time (cron: minute hour day month weekday)"),
      path: "/trigger/cron", required: true, hint: QD.t("例如 0 8 * * 1 = 每周一 8:00", "e.g. 0 8 * * 1 = Mondays at 8:00")},
      R.input(trig.cron, function (v) { setOption(scope, "cron", v); refresh(); }, {"data-testid": "trigger-cron", placeholder: "0 8 * * 1"}), hint));
    box.appendChild(R.field({label: QD.t("时区（默认：工作日历的时区）", "Time zone (default: the work calendar's)"), path: "/trigger/timezone"},
      R.input(trig.timezone, function (v) { setOption(scope, "timezone", v); refresh(); }, {placeholder: "Asia/Shanghai"})));
    var perRecord = el("input", {type: "checkbox", checked: Boolean(trig.records), "data-testid": "trigger-per-record"});
    perRecord.addEventListener("change", function () { setOption(scope, "records", perRecord.checked ? {} : undefined, true); });
    box.appendChild(R.field({label: QD.t("对表单中每条符合条件的记录各运行一次", "Run once for each matching record of the form"),
      path: "/trigger/records", inline: true}, perRecord));
    if (trig.records) {
      box.appendChild(R.field({label: QD.t("记录筛选条件", "Record filter"), path: "/trigger/records/filter"},
        R.expr(scope, trig.records.filter, function (v) {
          if (v === undefined) delete trig.records.filter; else trig.records.filter = v;
          scope.changed();
        }, {form: scope.definition.form, expect: "boolean", testid: "trigger-records-filter"})));
    }
    refresh();
  }

  function spcOptions(scope, box, trig) {
    var form = R.formOf(scope.choices, scope.definition.form);
    box.appendChild(R.field({label: QD.t("测量字段", "Measured field"), path: "/trigger/field", required: true},
      R.select([{value: "", text: "—"}].concat(numberFields(form)), trig.field, function (v) { setOption(scope, "field", v || undefined); },
        {"data-testid": "trigger-spc-field"})));
    var rules = [1, 2, 3, 4, 5, 6, 7, 8].map(function (n) { return {value: n, text: QD.t("判异准则 " + n, "Rule " + n)}; });
    box.appendChild(R.field({label: QD.t("判异准则（不选 = 全部）", "Run rules (none = all)"), path: "/trigger/rules"},
      R.checks(rules, trig.rules, function (v) { setOption(scope, "rules", v.map(Number).sort()); })));
    box.appendChild(R.field({label: QD.t("最近子组数", "Last subgroups"), path: "/trigger/last"},
      R.input(trig.last, function (v) { setOption(scope, "last", v); }, {type: "number", min: 5, max: 1000})));
    box.appendChild(R.field({label: QD.t("分图字段（如 零件 × 特性）", "Separate charts by (e.g. part × characteristic)"), path: "/trigger/by"},
      R.checks(R.fieldItems(form, function (f) { return f.type !== "subtable"; }), trig.by, function (v) { setOption(scope, "by", v); })));
    box.appendChild(R.field({label: QD.t("SPC 报表（可选）", "SPC report (optional)"), path: "/trigger/report"},
      R.input(trig.report, function (v) { setOption(scope, "report", v); })));
  }

  function webhookOptions(scope, box, trig) {
    var rows = el("div", {class: "qr-table", "data-testid": "webhook-fields"});
    (trig.fields || []).forEach(function (spec, i) {
      var here = "/trigger/fields/" + i;
      var update = function (name) { return function (v) { if (v === undefined) delete spec[name]; else spec[name] = v; scope.changed(); }; };
      var req = el("input", {type: "checkbox", checked: Boolean(spec.required), title: QD.t("必填", "Required")});
      req.addEventListener("change", function () { update("required")(req.checked || undefined); });
      rows.appendChild(el("div", {class: "qr-row", "data-qr-path": here},
        R.input(spec.key, update("key"), {placeholder: QD.t("名称", "name")}),
        R.input(spec.path, update("path"), {placeholder: QD.t("路径，如 receipt.qty", "path, e.g. receipt.qty")}),
        R.select(PAYLOAD_TYPES.map(function (t) { return {value: t, text: t}; }), spec.type || "text", update("type")),
        el("label", {class: "qr-check"}, req, QD.t("必填", "required")),
        R.button("×", function () { trig.fields.splice(i, 1); setOption(scope, "fields", trig.fields, true); }, {title: QD.t("删除", "Remove")})));
    });
    box.appendChild(R.field({label: QD.t("推送内容中的字段（表达式中可用）", "Fields of the posted JSON (names for expressions)"), path: "/trigger/fields"},
      rows, R.button(QD.t("+ 添加字段", "+ Add a field"), function () {
        trig.fields = (trig.fields || []).concat([{key: "", type: "text"}]);
        setOption(scope, "fields", trig.fields, true);
      }, {"data-testid": "add-webhook-field"})));
    box.appendChild(el("div", {class: "qr-hint"}, QD.t("发布后，管理员在“规则”页面生成此规则的 Webhook 地址。",
      "After publishing, an administrator creates this rule's webhook URL on the Rules page.")));
  }

  R.triggerSection = function (scope) {
    var def = scope.definition;
    def.trigger = def.trigger && typeof def.trigger === "object" ? def.trigger : {type: "record_created"};
    var trig = def.trigger, info = triggerInfo(scope, trig.type);
    var section = el("section", {class: "qr-section qr-when", "data-testid": "rule-trigger"},
      el("h3", {class: "qr-step"}, el("span", {class: "qr-step-tag"}, QD.t("当", "When")), QD.t("触发条件", "Trigger")));
    var types = ((scope.choices && scope.choices.triggers) || []).map(function (t) { return {value: t.type, text: QD.label(t.label)}; });
    section.appendChild(R.field({label: QD.t("触发方式", "Trigger type"), path: "/trigger/type"},
      R.select(types, trig.type, function (v) {
        def.trigger = {type: v};
        scope.changed();
        scope.render();
      }, {"data-testid": "trigger-type"})));
    var needsForm = !info || info.needs_form || (trig.type === "schedule" && trig.records);
    section.appendChild(R.field({label: QD.t("表单", "Form"), path: "/form", required: needsForm,
      hint: needsForm ? null : QD.t("可不选：按计划或 Webhook 运行时没有记录", "Optional: schedule and webhook runs have no record")},
      R.select(R.formItems(scope.choices, "—"), def.form, function (v) {
        if (v) def.form = v; else delete def.form;
        scope.changed();
        scope.render();
      }, {"data-testid": "rule-form"})));
    var box = el("div", {class: "qr-options"});
    if (trig.type === "field_changed") {
      box.appendChild(R.field({label: QD.t("这些字段之一变化时", "When one of these fields changes"), path: "/trigger/fields", required: true},
        R.checks(R.fieldItems(R.formOf(scope.choices, def.form)), trig.fields, function (v) { setOption(scope, "fields", v); }, "trigger-fields")));
    } else if (FLOW[trig.type]) {
      flowOptions(scope, box, trig);
    } else if (trig.type === "schedule") {
      scheduleOptions(scope, box, trig);
    } else if (trig.type === "spc_violation") {
      spcOptions(scope, box, trig);
    } else if (trig.type === "webhook") {
      webhookOptions(scope, box, trig);
    } else if (!KNOWN[trig.type] && info) {
      box.appendChild(R.schemaForm(scope, trig, info.options, info.required, "/trigger", def.form));
    }
    section.appendChild(box);
    return section;
  };

  R.conditionSection = function (scope) {
    var def = scope.definition;
    var section = el("section", {class: "qr-section qr-if"},
      el("h3", {class: "qr-step"}, el("span", {class: "qr-step-tag"}, QD.t("如果", "If")), QD.t("条件（可选）", "Condition (optional)")));
    section.appendChild(R.field({label: QD.t("满足此条件时才执行（结果为真/假）", "Run only when this is true"), path: "/condition",
      hint: (def.trigger && (def.trigger.type === "record_updated" || def.trigger.type === "field_changed"))
        ? QD.t("可用 old.字段 取修改前的值，如 result = \"NG\" AND old.result <> \"NG\"",
          "old.<field> is the value before the change, e.g. result = \"NG\" AND old.result <> \"NG\"") : null},
      R.expr(scope, def.condition, function (v) {
        if (v === undefined) delete def.condition; else def.condition = v;
        scope.changed();
      }, {form: def.form || null, expect: "boolean", multiline: true, testid: "rule-condition",
        placeholder: QD.t("例如 result = \"NG\"", "e.g. result = \"NG\"")})));
    return section;
  };
})();
