/* The rule designer's test run panel: pick a record of the rule's form (search by number or title),
 * "Run test" sends the current draft to POST /designer/api/rules/trial, and the answer is shown:
 * the condition's value, then per action what it WOULD do (summary, the computed values next to
 * their expressions, problems) — clearly labelled "nothing was done". Webhook rules take a sample
 * JSON body instead of a record. Adds QDRule.trialPanel(scope) → {node, reset()}.
 */
(function () {
  "use strict";
  var QD = window.QD, R = window.QDRule, el = R.el;

  function valueText(v) {
    if (v === true) return QD.t("真", "TRUE");
    if (v === false) return QD.t("假", "FALSE");
    if (v === null || v === undefined) return QD.t("（空）", "(blank)");
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }

  function problemList(problems, onPick) {
    var list = el("ul", {class: "qr-trial-problems"});
    problems.forEach(function (p) {
      list.appendChild(el("li", {class: "qr-problem"}, el("button", {type: "button", class: "qr-link", onclick: function () { onPick(p); }},
        R.pointer(p.path) || "/"), " ", p.message));
    });
    return list;
  }

  function actionResult(a, onPick) {
    var rows = el("table", {class: "qr-trial-details"});
    (a.details || []).forEach(function (d) {
      rows.appendChild(el("tr", null, el("th", {scope: "row"}, d.label),
        el("td", {class: "qr-trial-value"}, d.text === "" ? el("span", {class: "qr-muted"}, QD.t("（空）", "(blank)")) : el("pre", null, d.text),
          d.source ? el("div", {class: "qr-trial-source", title: QD.t("表达式", "Expression")}, "← ", el("code", null, d.source)) : null)));
    });
    return el("div", {class: "qr-trial-action" + ((a.problems || []).length ? " qr-trial-bad" : ""), "data-testid": "trial-action-" + a.index},
      el("div", {class: "qr-trial-head"}, el("span", {class: "qr-card-no"}, String(a.index + 1)), el("strong", null, a.label), " ",
        el("span", {class: "qr-trial-summary", "data-testid": "trial-summary"}, a.summary)),
      (a.details || []).length ? rows : null,
      (a.problems || []).length ? problemList(a.problems, onPick) : null);
  }

  R.trialPanel = function (scope) {
    var state = {records: [], busy: false, timer: null};
    var search = el("input", {type: "search", class: "qr-input", "data-testid": "trial-search",
      placeholder: QD.t("按编号或标题搜索记录", "Search records by number or title")});
    var picker = el("select", {class: "qr-select", "data-testid": "trial-record", "aria-label": QD.t("试运行的记录", "Record to try")});
    var payload = R.json({}, function (v) { state.payload = v; }, {"data-testid": "trial-payload", rows: 4});
    var payloadField = R.field({label: QD.t("示例推送内容（JSON）", "Sample posted body (JSON)")}, payload);
    var run = R.button(QD.t("▶ 试运行", "▶ Run test"), function () { start(); }, {class: "qr-btn qr-primary", "data-testid": "trial-run"});
    var result = el("div", {class: "qr-trial-result", "data-testid": "trial-result", "aria-live": "polite"});
    var node = el("section", {class: "qr-section qr-trial", "data-testid": "rule-trial"},
      el("h3", {class: "qr-step"}, el("span", {class: "qr-step-tag qr-tag-test"}, QD.t("试", "Test")), QD.t("试运行（不会真正执行）", "Test run (nothing is done)")),
      el("div", {class: "qr-hint"}, QD.t("用一条已有记录计算此规则（含未保存的修改）会做什么；不会新建、修改记录，也不会发送任何通知。",
        "Work out what this rule (with unsaved changes) would do for an existing record; no record is created or changed and nothing is sent.")),
      el("div", {class: "qr-trial-pick"}, search, picker), payloadField, el("div", {class: "qr-trial-actions"}, run), result);

    function needsRecord() {
      var trig = scope.definition.trigger || {};
      if (trig.type === "webhook" || !scope.definition.form) return false;
      return trig.type !== "schedule" || Boolean(trig.records);
    }

    async function loadRecords() {
      var form = scope.definition.form;
      picker.textContent = "";
      if (!form) { picker.appendChild(el("option", {value: ""}, QD.t("（此规则没有表单）", "(this rule has no form)"))); return; }
      var url = scope.urls.trialRecords + "?form=" + encodeURIComponent(form) + "&q=" + encodeURIComponent(search.value || "");
      var reply = await QD.api("GET", url);
      picker.textContent = "";
      if (!reply.ok) { picker.appendChild(el("option", {value: ""}, QD.errorText(reply))); return; }
      state.records = reply.data.items || [];
      if (!state.records.length) picker.appendChild(el("option", {value: ""}, QD.t("没有找到记录", "No records found")));
      state.records.forEach(function (r) {
        picker.appendChild(el("option", {value: r.id}, (r.serial_no || "#" + r.id) + (r.title && r.title !== r.serial_no ? " · " + r.title : "")));
      });
    }
    search.addEventListener("input", function () { clearTimeout(state.timer); state.timer = setTimeout(loadRecords, 300); });

    function pick(problem) { if (scope.focusPath) scope.focusPath(R.pointer(problem.path)); }

    async function start() {
      if (state.busy) return;
      var body = {definition: scope.definition, record_id: picker.value ? Number(picker.value) : null};
      if (scope.definition.trigger && scope.definition.trigger.type === "webhook") body.payload = state.payload || {};
      if (needsRecord() && !body.record_id) { QD.toast(QD.t("请先选择一条记录", "Choose a record first"), "error"); return; }
      state.busy = true;
      run.disabled = true;
      result.textContent = "";
      result.appendChild(el("div", {class: "qr-muted"}, QD.t("计算中…", "Working it out…")));
      var reply = await QD.api("POST", scope.urls.trial, body);
      state.busy = false;
      run.disabled = false;
      show(reply);
    }

    function show(reply) {
      result.textContent = "";
      if (!reply.ok) { result.appendChild(el("div", {class: "qr-local-error", role: "alert"}, QD.errorText(reply))); return; }
      var data = reply.data;
      result.appendChild(el("div", {class: "qr-trial-banner", "data-testid": "trial-nothing-done"},
        QD.t("仅为试运行：未实际执行任何操作", "Test only: nothing was done")));
      if ((data.problems || []).length && !data.condition) {
        result.appendChild(el("div", {class: "qr-trial-verdict qr-trial-bad"}, QD.t("规则有问题，无法试运行：", "The rule has problems and cannot be tried:")));
        result.appendChild(problemList(data.problems, pick));
        return;
      }
      if (data.record) {
        result.appendChild(el("div", {class: "qr-muted"}, QD.t("记录：", "Record: ") + (data.record.serial_no || "#" + data.record.id) +
          (data.record.title && data.record.title !== data.record.serial_no ? " · " + data.record.title : "")));
      }
      var c = data.condition || {};
      var verdict = c.passed === true ? QD.t("条件成立：实际运行时会执行以下动作", "The condition holds: a real run would do the following")
        : c.passed === false ? QD.t("条件不成立：实际运行时不会执行以下动作（仅供参考）", "The condition does not hold: a real run would do nothing (shown for reference)")
          : QD.t("条件无法计算：实际运行会失败", "The condition cannot be worked out: a real run would fail");
      result.appendChild(el("div", {class: "qr-trial-verdict " + (c.passed ? "qr-trial-ok" : "qr-trial-bad"), "data-testid": "trial-condition",
        "data-passed": String(c.passed)}, verdict));
      if (c.source) result.appendChild(el("div", {class: "qr-trial-cond"}, el("code", null, c.source), " = ", el("strong", null, valueText(c.value))));
      if ((data.problems || []).length) result.appendChild(problemList(data.problems, pick));
      (data.actions || []).forEach(function (a) { result.appendChild(actionResult(a, pick)); });
    }

    function reset() {
      payloadField.hidden = !(scope.definition.trigger && scope.definition.trigger.type === "webhook");
      var form = scope.definition.form || "";
      if (form !== state.form) { state.form = form; result.textContent = ""; loadRecords(); }
    }
    reset();
    return {node: node, reset: reset};
  };
})();
