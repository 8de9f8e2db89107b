/* The rule designer's notify and call_webhook forms: recipients (people, roles, user fields of the
 * record, the submitter), channels, group robots, subject/body templates with a field-insert helper
 * ({{ record.<field> }} at the caret); webhook URL, signing secret, timeout, headers and the JSON
 * payload template. Adds QDRule.actionForms.notify / .call_webhook.
 */
(function () {
  "use strict";
  var QD = window.QD, R = window.QDRule, el = R.el;

  // A "insert field" select that puts {{ record.<key> }} into the template input last focused.
  function inserter(scope, inputs) {
    var last = inputs[0];
    inputs.forEach(function (input) { input.addEventListener("focus", function () { last = input; }); });
    var form = R.formOf(scope.choices, scope.definition.form);
    var items = [{value: "", text: QD.t("插入字段…", "Insert a field…")}];
    ((form && form.fields) || []).forEach(function (f) {
      if (f.type !== "subtable") items.push({value: "record." + f.key, text: QD.label(f.label) + " (" + f.key + ")"});
    });
    [["record.serial_no", QD.t("编号", "Number")], ["link", QD.t("记录链接", "Link to the record")],
      ["rule.label", QD.t("规则名称", "Rule name")], ["now", QD.t("运行时间", "Run time")]].forEach(function (x) {
      items.push({value: x[0], text: x[1] + " (" + x[0] + ")"});
    });
    var select = R.select(items, "", function (name) {
      if (!name || !last) return;
      var text = "{{ " + name + " }}";
      var start = last.selectionStart === null ? last.value.length : last.selectionStart;
      var end = last.selectionEnd === null ? start : last.selectionEnd;
      last.value = last.value.slice(0, start) + text + last.value.slice(end);
      last.dispatchEvent(new Event("input", {bubbles: true}));
      last.focus();
      last.setSelectionRange(start + text.length, start + text.length);
      select.value = "";
    }, {"data-testid": "insert-field", "aria-label": QD.t("插入字段", "Insert a field")});
    return el("div", {class: "qr-insert"}, select,
      el("span", {class: "qr-hint"}, QD.t("模板：{{ record.字段 }}、{% if … %}…{% endif %}", "Templates: {{ record.field }}, {% if … %}…{% endif %}")));
  }

  function template(action, name, scope, attrs) {
    var tag = attrs && attrs.rows ? "textarea" : "input";
    var node = el(tag, Object.assign({class: "qr-input qr-template", type: tag === "input" ? "text" : null}, attrs || {}));
    node.value = action[name] || "";
    node.addEventListener("input", function () {
      if (node.value) action[name] = node.value; else delete action[name];
      scope.changed();
    });
    return node;
  }

  function userFields(scope) {
    var form = R.formOf(scope.choices, scope.definition.form);
    return ((form && form.fields) || []).filter(function (f) { return f.type === "user" || (f.type === "lookup" && f.is_user); });
  }

  R.actionForms.notify = function (scope, action, i) {
    var path = "/actions/" + i;
    action.to = action.to && typeof action.to === "object" ? action.to : {};
    var to = action.to;
    var setTo = function (name) {
      return function (v) {
        if (v === undefined || v === false || (Array.isArray(v) && !v.length)) delete to[name]; else to[name] = v;
        scope.changed();
      };
    };
    var box = el("div");
    var people = ((scope.choices && scope.choices.users) || []).map(function (u) { return {value: u.id, text: u.name}; });
    var roles = ((scope.choices && scope.choices.roles) || []).map(function (r) { return {value: r.key, text: QD.label(r.label) + " (" + r.key + ")"}; });
    var submitter = el("input", {type: "checkbox", checked: Boolean(to.submitter), "data-testid": "notify-submitter"});
    submitter.addEventListener("change", function () { setTo("submitter")(submitter.checked); });
    box.appendChild(el("div", {class: "qr-recipients", "data-qr-path": path + "/to"},
      el("div", {class: "qr-label"}, QD.t("通知谁", "Whom to notify")),
      R.field({label: QD.t("角色", "Roles"), path: path + "/to/roles"}, R.checks(roles, to.roles, setTo("roles"), "notify-roles")),
      R.field({label: QD.t("记录中的人员字段", "User fields of the record"), path: path + "/to/fields"},
        R.checks(userFields(scope).map(function (f) { return {value: f.key, text: QD.label(f.label)}; }), to.fields, setTo("fields"), "notify-fields")),
      R.field({label: QD.t("指定成员", "People"), path: path + "/to/users", cls: "qr-people"},
        R.checks(people, to.users, function (v) { setTo("users")(v.map(Number)); }, "notify-users")),
      R.field({label: QD.t("提交人", "The submitter"), path: path + "/to/submitter", inline: true}, submitter)));
    var channels = [{value: "in_app", text: QD.t("站内通知", "In-app")}, {value: "email", text: QD.t("邮件", "E-mail")}];
    box.appendChild(R.field({label: QD.t("渠道", "Channels"), path: path + "/channels"},
      R.checks(channels, action.channels || ["in_app", "email"], function (v) { action.channels = v; scope.changed(); }, "notify-channels")));
    var robots = ((scope.choices && scope.choices.robots) || []).map(function (r) { return {value: r.key, text: r.name + " (" + r.kind + ")"}; });
    if (robots.length || (action.robots || []).length) {
      box.appendChild(R.field({label: QD.t("群机器人", "Group robots"), path: path + "/robots"},
        R.checks(robots, action.robots, function (v) { if (v.length) action.robots = v; else delete action.robots; scope.changed(); }, "notify-robots")));
    }
    var subject = template(action, "subject", scope, {"data-testid": "notify-subject", placeholder: QD.t("如：来料批 {{ record.lot_no }} 判退", "e.g. Lot {{ record.lot_no }} rejected")});
    var body = template(action, "body", scope, {rows: 4, "data-testid": "notify-body"});
    box.appendChild(inserter(scope, [subject, body]));
    box.appendChild(R.field({label: QD.t("标题", "Subject"), path: path + "/subject", required: true}, subject));
    box.appendChild(R.field({label: QD.t("正文", "Body"), path: path + "/body"}, body));
    return box;
  };

  function headers(scope, action, path) {
    var rows = el("div", {class: "qr-table"});
    var map = action.headers || {};
    Object.keys(map).forEach(function (name) {
      var value = R.input(map[name], function (v) { map[name] = v || ""; scope.changed(); });
      rows.appendChild(el("div", {class: "qr-row", "data-qr-path": path + "/headers/" + name},
        el("code", null, name), value,
        R.button("×", function () { delete map[name]; if (!Object.keys(map).length) delete action.headers; scope.changed(); scope.render(); })));
    });
    var name = R.input("", function () {}, {placeholder: "X-Header-Name", pattern: "[A-Za-z0-9-]{1,60}"});
    rows.appendChild(el("div", {class: "qr-row"}, name, R.button(QD.t("+ 添加请求头", "+ Add header"), function () {
      var key = (name.value || "").trim();
      if (!/^[A-Za-z0-9-]{1,60}$/.test(key)) { QD.toast(QD.t("请求头名称只能含字母、数字和 -", "A header name has letters, digits and - only"), "error"); return; }
      action.headers = Object.assign(action.headers || {}, {});
      action.headers[key] = "";
      scope.changed();
      scope.render();
    })));
    return rows;
  }

  R.actionForms.call_webhook = function (scope, action, i) {
    var path = "/actions/" + i;
    var box = el("div");
    var url = template(action, "url", scope, {"data-testid": "webhook-url", placeholder: "https://erp.example.com/qms/{{ record.lot_no }}"});
    box.appendChild(R.field({label: "URL", path: path + "/url", required: true}, url));
    box.appendChild(R.field({label: QD.t("签名密钥（HMAC-SHA256，可选，至少 8 个字符）", "Signing secret (HMAC-SHA256, optional, ≥ 8 characters)"), path: path + "/secret"},
      R.input(action.secret, function (v) { if (v === undefined) delete action.secret; else action.secret = v; scope.changed(); },
        {"data-testid": "webhook-secret", autocomplete: "off"})));
    box.appendChild(R.field({label: QD.t("超时（秒，1–30）", "Timeout (seconds, 1–30)"), path: path + "/timeout"},
      R.input(action.timeout, function (v) { if (v === undefined) delete action.timeout; else action.timeout = v; scope.changed(); },
        {type: "number", min: 1, max: 30})));
    box.appendChild(R.field({label: QD.t("请求头", "Headers"), path: path + "/headers"}, headers(scope, action, path)));
    var payload = R.json(action.payload, function (v) { if (v === undefined) delete action.payload; else action.payload = v; scope.changed(); },
      {"data-testid": "webhook-payload", placeholder: '{"lot": "{{ record.lot_no }}"}'});
    box.appendChild(inserter(scope, [url, payload.querySelector("textarea")]));
    box.appendChild(R.field({label: QD.t("内容（JSON 模板；留空 = 发送事件本身）", "Payload (a JSON template; empty = the event itself)"), path: path + "/payload"}, payload));
    return box;
  };
})();
