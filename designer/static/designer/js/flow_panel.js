/* The flow designer's right panel (data-testid="node-panel"): the selected node's settings —
 * label, assignees, multi-approver mode, field permissions, deadline and escalation, e-signature,
 * automatic actions (flow_actions.js) — or the selected branch's label, condition and default.
 * Sections follow the properties the flow schema allows for the node type (flow-choices).
 * Edits mutate the node in place and call api.changed(); the panel is not rebuilt while typing.
 * QD.FlowPanel = {open(side, api, selection) → {setProblems(list)}, close(side), summary(node, api),
 *                 assigneeEditor(list, api, onChange)}.
 */
(function () {
  "use strict";
  var QD = window.QD;
  var el = function () { return QD.el.apply(null, arguments); };
  var handles = [];

  function has(obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); }
  function pick(list, key, prop) { return (list || []).find(function (x) { return x[prop || "key"] === key; }); }
  function num(value) { var n = Number(value); return value === "" || value === null || isNaN(n) ? undefined : n; }

  /* The expression editor on ``input``: over the flow's form, or ``formOf()`` (a target form's key). */
  function attachExpr(api, input, expect, formOf) {
    var editor = api.ctx.expr || QD.ExpressionEditor;
    if (!editor || !editor.attach) return;
    handles.push(editor.attach(input, {form: formOf || function () { return api.definition.form; }, table: null,
                                       expect: expect || null, tryIt: true}));
  }

  function formFields(api) {
    var form = (api.ctx.forms || []).find(function (f) { return f.key === api.definition.form; });
    return form ? (form.fields || []).filter(function (f) { return f && f.key; }) : [];
  }

  // ---- summaries on the node cards -------------------------------------------------------------
  function assigneeText(spec, api) {
    var c = api.choices, kind = pick(c.assignee_kinds, spec.kind, "kind");
    var name = kind ? QD.label(kind.label) : spec.kind;
    if (spec.kind === "user") { var u = pick(c.users, spec.user, "id"); return u ? u.name : name + " #" + spec.user; }
    if (spec.kind === "role") { var r = pick(c.roles, spec.role); return name + "：" + (r ? QD.label(r.label) : spec.role); }
    if (spec.kind === "department_head") return name + ((spec.level || 1) > 1 ? " (" + QD.t("上", "up ") + spec.level + QD.t("级)", ")") : "");
    if (spec.kind === "field") {
      var f = formFields(api).find(function (x) { return x.key === spec.field; });
      return name + "：" + (f ? QD.label(f.label) : spec.field);
    }
    if (spec.kind === "expression") return name + "：" + spec.expression;
    return name;
  }

  function summary(node, api) {
    var lines = [], c = api.choices;
    if (Array.isArray(node.assignees)) {
      lines.push(node.assignees.length ? node.assignees.map(function (a) { return assigneeText(a, api); }).join("、")
                                       : QD.t("请设置处理人", "Choose who"));
    }
    if ((node.type === "approval" || node.type === "handle") && node.assignees && node.assignees.length) {
      var mode = pick(c.modes, node.mode || "any");
      lines.push(mode ? QD.label(mode.label) + (node.mode === "ratio" && node.ratio ? " " + Math.round(node.ratio * 100) + "%" : "") : node.mode);
    }
    if (node.deadline) {
      var d = node.deadline, over = pick(c.overdue_actions, d.on_overdue || "remind");
      lines.push(QD.t("期限 ", "Due in ") + (d.hours !== undefined ? d.hours + QD.t(" 小时", " h") : d.days + QD.t(" 天", " d")) +
                 (over ? " · " + QD.t("超时", "overdue: ") + QD.label(over.label) : ""));
    }
    if (node.type === "automatic") {
      var acts = Array.isArray(node.actions) ? node.actions : [];
      lines.push(acts.length ? acts.map(function (a) { var t = pick(c.action_types, a.type, "type"); return t ? QD.label(t.label) : a.type; }).join("、")
                             : QD.t("请添加动作", "Add actions"));
    }
    if (node.type === "start") lines.push(QD.t("提交记录后开始", "Starts when a record is submitted"));
    return lines;
  }

  // ---- small widgets ---------------------------------------------------------------------------
  function section(title, testid) {
    var body = el("div", {class: "qf-sec-body"});
    return {root: el("section", {class: "qf-sec", "data-testid": testid}, el("h4", {}, title), body), body: body};
  }

  function field(label, control) { return el("label", {class: "qf-field"}, el("span", {}, label), control); }

  function labelInputs(obj, api, testid) {
    var label = obj.label && typeof obj.label === "object" ? obj.label : null;
    function input(lang, text) {
      var box = el("input", {type: "text", value: label ? label[lang] || "" : "", "data-testid": testid + "-" + (lang === "en" ? "en" : "zh")});
      box.addEventListener("input", function () {
        if (!obj.label || typeof obj.label !== "object") obj.label = {"zh-CN": "", en: ""};
        obj.label[lang] = box.value;
        api.changed();
      });
      return field(text, box);
    }
    return el("div", {class: "qf-pair"}, input("zh-CN", QD.t("名称（中文）", "Name (Chinese)")), input("en", QD.t("名称（英文）", "Name (English)")));
  }

  function optionSelect(list, value, prop, testid, placeholder) {
    var sel = el("select", {"data-testid": testid});
    if (placeholder) sel.appendChild(el("option", {value: ""}, placeholder));
    (list || []).forEach(function (x) {
      var key = String(x[prop || "key"]);
      sel.appendChild(el("option", {value: key, selected: String(value) === key}, QD.label(x.label || x.name) || key));
    });
    if (value !== undefined && value !== null && value !== "" && !pick(list, value, prop)) {
      sel.appendChild(el("option", {value: String(value), selected: true}, "? " + value));
    }
    return sel;
  }

  /* An assignee list editor (node.assignees or deadline.escalate_to); ``onChange()`` after edits. */
  function assigneeEditor(list, api, onChange, testid) {
    var box = el("div", {class: "qf-assignees", "data-testid": testid || "assignees"});
    function draw() {
      box.textContent = "";
      list.forEach(function (spec, i) { box.appendChild(row(spec, i)); });
      box.appendChild(el("button", {type: "button", class: "qf-link", "data-testid": (testid || "assignees") + "-add",
        onclick: function () { list.push({kind: "role", role: ((api.choices.roles || [])[0] || {}).key || "role"}); onChange(); draw(); }},
        "+ " + QD.t("添加处理人", "Add assignee")));
    }
    function row(spec, i) {
      var kinds = optionSelect(api.choices.assignee_kinds, spec.kind, "kind", "assignee-kind-" + i);
      kinds.addEventListener("change", function () {
        Object.keys(spec).forEach(function (k) { delete spec[k]; });
        spec.kind = kinds.value;
        if (spec.kind === "user") spec.user = ((api.choices.users || [])[0] || {}).id || 1;
        if (spec.kind === "role") spec.role = ((api.choices.roles || [])[0] || {}).key || "role";
        if (spec.kind === "field") spec.field = (userFields()[0] || {}).key || "owner";
        if (spec.kind === "expression") spec.expression = "submitter";
        onChange(); draw();
      });
      var value = valueWidget(spec, i);
      var del = el("button", {type: "button", class: "qf-del-row", "data-testid": "assignee-remove-" + i, title: QD.t("移除", "Remove"),
        "aria-label": QD.t("移除", "Remove"), onclick: function () { list.splice(i, 1); onChange(); draw(); }}, "×");
      return el("div", {class: "qf-assignee"}, kinds, value, del);
    }
    function userFields() { return formFields(api).filter(function (f) { return f.type === "user"; }); }
    function valueWidget(spec, i) {
      var w = null;
      if (spec.kind === "user") {
        w = optionSelect((api.choices.users || []).map(function (u) { return {key: u.id, label: u.name}; }), spec.user, "key", "assignee-user-" + i);
        w.addEventListener("change", function () { spec.user = Number(w.value); onChange(); });
      } else if (spec.kind === "role") {
        w = optionSelect(api.choices.roles, spec.role, "key", "assignee-role-" + i);
        w.addEventListener("change", function () { spec.role = w.value; onChange(); });
      } else if (spec.kind === "department_head") {
        w = el("select", {"data-testid": "assignee-level-" + i}, [1, 2, 3, 4, 5].map(function (n) {
          return el("option", {value: String(n), selected: (spec.level || 1) === n},
                    n === 1 ? QD.t("直属部门负责人", "Own department's head") : QD.t("上 " + n + " 级部门负责人", n + " levels up"));
        }));
        w.addEventListener("change", function () { if (w.value === "1") delete spec.level; else spec.level = Number(w.value); onChange(); });
      } else if (spec.kind === "field") {
        w = optionSelect(userFields().map(function (f) { return {key: f.key, label: f.label}; }), spec.field, "key", "assignee-field-" + i);
        w.addEventListener("change", function () { spec.field = w.value; onChange(); });
      } else if (spec.kind === "expression") {
        w = el("input", {type: "text", value: spec.expression || "", "data-testid": "assignee-expression-" + i});
        w.addEventListener("input", function () { spec.expression = w.value; onChange(); });
        attachExpr(api, w, null);
      }
      return el("div", {class: "qf-assignee-value"}, w);
    }
    draw();
    return box;
  }

  // ---- node sections ---------------------------------------------------------------------------
  function modeSection(node, api) {
    var s = section(QD.t("多人审批方式", "When several people"), "mode");
    var ratio = el("input", {type: "number", min: "0.01", max: "1", step: "0.05", value: node.ratio || 0.5, "data-testid": "ratio"});
    var ratioRow = field(QD.t("通过比例（0–1）", "Share needed (0–1)"), ratio);
    (api.choices.modes || []).forEach(function (m) {
      var radio = el("input", {type: "radio", name: "qf-mode", value: m.key, checked: (node.mode || "any") === m.key, "data-testid": "mode-" + m.key});
      radio.addEventListener("change", function () {
        node.mode = m.key;
        if (m.key === "ratio") node.ratio = num(ratio.value) || 0.5; else delete node.ratio;
        ratioRow.hidden = m.key !== "ratio";
        api.changed();
      });
      s.body.appendChild(el("label", {class: "qf-radio"}, radio, QD.label(m.label)));
    });
    ratio.addEventListener("input", function () { if (num(ratio.value) !== undefined) { node.ratio = num(ratio.value); api.changed(); } });
    ratioRow.hidden = node.mode !== "ratio";
    s.body.appendChild(ratioRow);
    return s.root;
  }

  function fieldsSection(node, api) {
    var s = section(QD.t("字段权限", "Field permissions"), "field-perms-section");
    var perms = api.choices.permissions || [];
    var deflt = node.type === "start" ? "editable" : "readonly";
    var table = el("table", {class: "qf-perms", "data-testid": "field-perms"},
      el("thead", {}, el("tr", {}, el("th", {}, QD.t("字段", "Field")), el("th", {}, QD.t("默认", "Default")),
                                   perms.map(function (p) { return el("th", {}, QD.label(p.label)); }))));
    var tbody = el("tbody");
    var rows = [{key: "*", label: QD.t("* 其他所有字段", "* Every other field")}].concat(formFields(api).map(function (f) {
      return {key: f.key, label: QD.label(f.label) || f.key};
    }));
    Object.keys(node.fields || {}).forEach(function (k) {
      if (!rows.some(function (r) { return r.key === k; })) rows.push({key: k, label: k + " " + QD.t("（表单中没有）", "(not on the form)")});
    });
    rows.forEach(function (r, i) {
      var current = node.fields && has(node.fields, r.key) ? node.fields[r.key] : "";
      var name = "qf-perm-" + i;
      function radio(value) {
        var input = el("input", {type: "radio", name: name, value: value, checked: current === value,
                                 "data-testid": "perm-" + r.key + "-" + (value || "inherit"),
                                 "aria-label": r.label + " " + (value || QD.t("默认", "default"))});
        input.addEventListener("change", function () {
          if (value) { node.fields = node.fields || {}; node.fields[r.key] = value; }
          else if (node.fields) { delete node.fields[r.key]; if (!Object.keys(node.fields).length) delete node.fields; }
          api.changed();
        });
        return el("td", {}, input);
      }
      var dflt = r.key === "*" ? QD.label((pick(perms, deflt) || {}).label) : QD.t("同 *", "as *");
      tbody.appendChild(el("tr", {class: r.key === "*" ? "qf-perm-star" : ""}, el("th", {scope: "row"}, r.label),
        el("td", {}, el("label", {class: "qf-inherit"}, radio("").firstChild, " ", el("small", {}, dflt))),
        perms.map(function (p) { return radio(p.key); })));
    });
    table.appendChild(tbody);
    if (!formFields(api).length) s.body.appendChild(el("p", {class: "muted"}, QD.t("表单“" + api.definition.form + "”未发布或没有字段", "The form '" + api.definition.form + "' is not published or has no fields")));
    s.body.appendChild(el("div", {class: "qf-perms-wrap"}, table));
    return s.root;
  }

  function deadlineSection(node, api) {
    var s = section(QD.t("处理期限", "Deadline"), "deadline");
    var on = el("input", {type: "checkbox", checked: Boolean(node.deadline), "data-testid": "deadline-on"});
    var inner = el("div", {class: "qf-sub"});
    on.addEventListener("change", function () {
      if (on.checked) node.deadline = {hours: 24, on_overdue: "remind"}; else delete node.deadline;
      api.changed(); draw();
    });
    s.body.appendChild(el("label", {class: "qf-check"}, on, QD.t("设置期限（超时提醒/升级）", "Set a deadline (remind / escalate when overdue)")));
    s.body.appendChild(inner);
    function numberInput(key, testid, label) {
      var d = node.deadline, box = el("input", {type: "number", min: "0", step: "any", value: has(d, key) ? d[key] : "", "data-testid": testid});
      box.addEventListener("input", function () { var v = num(box.value); if (v === undefined) delete d[key]; else d[key] = v; api.changed(); });
      return field(label, box);
    }
    function draw() {
      inner.textContent = "";
      var d = node.deadline;
      if (!d) return;
      var unit = el("select", {"data-testid": "deadline-unit"}, el("option", {value: "hours", selected: !has(d, "days")}, QD.t("小时", "hours")),
                    el("option", {value: "days", selected: has(d, "days")}, QD.t("天", "days")));
      var amount = el("input", {type: "number", min: "0", step: "any", value: has(d, "days") ? d.days : (d.hours === undefined ? "" : d.hours), "data-testid": "deadline-amount"});
      function setAmount() {
        var v = num(amount.value), key = unit.value, other = key === "days" ? "hours" : "days";
        delete d[other];
        if (v === undefined) delete d[key]; else d[key] = v;
        api.changed();
      }
      amount.addEventListener("input", setAmount);
      unit.addEventListener("change", setAmount);
      inner.appendChild(field(QD.t("期限", "Due after"), el("span", {class: "qf-inline"}, amount, unit)));
      var working = el("input", {type: "checkbox", checked: d.working_hours === true, "data-testid": "deadline-working"});
      working.addEventListener("change", function () { if (working.checked) d.working_hours = true; else delete d.working_hours; api.changed(); });
      inner.appendChild(el("label", {class: "qf-check"}, working, QD.t("只计工作时间", "Count working time only")));
      inner.appendChild(numberInput("remind_before_hours", "deadline-remind", QD.t("到期前提醒（小时）", "Remind before (hours)")));
      var over = optionSelect(api.choices.overdue_actions, d.on_overdue || "remind", "key", "deadline-overdue");
      over.addEventListener("change", function () {
        d.on_overdue = over.value;
        if (over.value === "escalate" && !Array.isArray(d.escalate_to)) d.escalate_to = [{kind: "department_head"}];
        if (over.value !== "escalate") delete d.escalate_to;
        if (over.value !== "remind") delete d.repeat_hours;
        api.changed(); draw();
      });
      inner.appendChild(field(QD.t("超时后", "When overdue"), over));
      if ((d.on_overdue || "remind") === "remind") inner.appendChild(numberInput("repeat_hours", "deadline-repeat", QD.t("每隔多少小时再提醒", "Remind again every (hours)")));
      if (d.on_overdue === "escalate") {
        if (!Array.isArray(d.escalate_to)) d.escalate_to = [];
        inner.appendChild(el("div", {class: "qf-field"}, el("span", {}, QD.t("升级给", "Escalate to")),
                             assigneeEditor(d.escalate_to, api, api.changed, "escalate-to")));
      }
    }
    draw();
    return s.root;
  }

  function signatureSection(node, api) {
    var s = section(QD.t("电子签名", "Electronic signature"), "signature");
    var on = el("input", {type: "checkbox", checked: Boolean(node.signature), "data-testid": "signature-on"});
    var inner = el("div", {class: "qf-sub"});
    on.addEventListener("change", function () {
      if (on.checked) node.signature = {meaning: "approved"}; else delete node.signature;
      api.changed(); draw();
    });
    s.body.appendChild(el("label", {class: "qf-check"}, on, QD.t("处理时需重新输入密码签名", "Re-enter the password to sign")));
    s.body.appendChild(inner);
    function draw() {
      inner.textContent = "";
      if (!node.signature) return;
      var m = node.signature.meaning, custom = m && typeof m === "object";
      var sel = optionSelect((api.choices.meanings || []).concat([{key: "_custom", label: {"zh-CN": "自定义…", en: "Custom…"}}]),
                             custom ? "_custom" : m, "key", "signature-meaning");
      sel.addEventListener("change", function () {
        node.signature.meaning = sel.value === "_custom" ? {"zh-CN": "", en: ""} : sel.value;
        api.changed(); draw();
      });
      inner.appendChild(field(QD.t("签名含义", "Meaning"), sel));
      if (custom) inner.appendChild(labelInputs({get label() { return node.signature.meaning; }, set label(v) { node.signature.meaning = v; }}, api, "signature-custom"));
    }
    draw();
    return s.root;
  }

  // ---- panels ----------------------------------------------------------------------------------
  function nodePanel(node, api) {
    var info = api.typeInfo(node.type), props = info.properties || [];
    var out = [el("div", {class: "qf-panel-id"}, QD.label(info.label), " · ", el("code", {}, node.id))];
    out.push(labelInputs(node, api, "node-label"));
    if (props.indexOf("assignees") >= 0) {
      if (!Array.isArray(node.assignees)) node.assignees = [];
      var s = section(node.type === "cc" ? QD.t("抄送给", "Notify") : QD.t("处理人", "Assignees"), "assignees-section");
      s.body.appendChild(assigneeEditor(node.assignees, api, api.changed));
      out.push(s.root);
    }
    if (props.indexOf("mode") >= 0) out.push(modeSection(node, api));
    if (props.indexOf("fields") >= 0) out.push(fieldsSection(node, api));
    if (props.indexOf("deadline") >= 0) out.push(deadlineSection(node, api));
    if (props.indexOf("signature") >= 0) out.push(signatureSection(node, api));
    if (props.indexOf("actions") >= 0 && QD.FlowActions) out.push(QD.FlowActions.section(node, api));
    if (node.type !== "start" && node.type !== "end" && node.type !== "join") {
      out.push(el("button", {type: "button", class: "danger qf-panel-delete", "data-testid": "node-panel-delete",
                             onclick: function () { api.remove(node.id); }}, QD.t("删除此节点", "Delete this node")));
    }
    return out;
  }

  function branchPanel(node, j, api) {
    var branch = node.branches[j], exclusive = node.type === "exclusive", out = [];
    out.push(el("div", {class: "qf-panel-id"}, QD.label(api.typeInfo(node.type).label), " · ", el("code", {}, node.id),
                " · ", QD.t("分支 ", "branch ") + (j + 1)));
    out.push(labelInputs(branch, api, "branch-label"));
    if (exclusive) {
      var isDefault = branch["default"] === true;
      var dflt = el("input", {type: "checkbox", checked: isDefault, "data-testid": "branch-default"});
      dflt.addEventListener("change", function () {
        if (dflt.checked) node.branches.forEach(function (b, i) { if (i === j) b["default"] = true; else delete b["default"]; });
        else delete branch["default"];
        api.changed();
        api.reopen();
      });
      out.push(el("label", {class: "qf-check"}, dflt, QD.t("默认分支（其他条件都不满足时）", "Default branch (when no other condition holds)")));
      if (!isDefault || has(branch, "condition")) {
        var input = el("textarea", {rows: "3", "data-testid": "branch-condition", placeholder: QD.t("例如：cost > 10000", "e.g. cost > 10000")});
        input.value = branch.condition || "";
        input.addEventListener("input", function () {
          if (input.value.trim()) branch.condition = input.value; else delete branch.condition;
          api.changed();
        });
        out.push(el("div", {class: "qf-field"}, el("span", {}, QD.t("条件（结果为是/否）", "Condition (true / false)")), input));
        attachExpr(api, input, "boolean");
      }
    }
    return out;
  }

  function close(side) {
    handles.forEach(function (h) { try { if (h && h.destroy) h.destroy(); } catch (err) { /* gone already */ } });
    handles = [];
    side.textContent = "";
    side.hidden = true;
  }

  function open(side, api, selection) {
    close(side);
    var node = api.byId(selection.node || selection.block);
    if (!node) return null;
    var problems = el("div", {class: "qf-panel-problems", role: "alert", "data-testid": "panel-problems"});
    api.reopen = function () { open(side, api, selection); };
    var title = selection.block !== undefined
      ? (QD.label(node.branches[selection.branch].label) || QD.t("分支", "Branch")) : api.nodeName(node);
    var body = selection.block !== undefined ? branchPanel(node, selection.branch, api) : nodePanel(node, api);
    side.appendChild(el("div", {class: "qf-panel-head qf-t-" + node.type},
      el("h3", {}, title),
      el("button", {type: "button", class: "qf-close", "data-testid": "node-panel-close", "aria-label": QD.t("关闭", "Close"),
                    onclick: function () { api.close(); }}, "×")));
    side.appendChild(problems);
    side.appendChild(el("div", {class: "qf-panel-body"}, body));
    side.hidden = false;
    function setProblems(list) {
      problems.textContent = "";
      (list || []).forEach(function (p) { problems.appendChild(el("div", {}, p.message)); });
      problems.hidden = !(list && list.length);
    }
    var key = selection.block !== undefined ? node.id + "/" + selection.branch : node.id;
    setProblems(api.problems.byNode[key]);
    return {setProblems: setProblems, key: key};
  }

  QD.FlowPanel = {open: open, close: close, summary: summary, assigneeEditor: assigneeEditor, attachExpr: attachExpr,
                  formFields: formFields, optionSelect: optionSelect, field: field, section: section};
})();
