/* The rule designer: QD.registerEditor("rule", …). Sections stacked top to bottom — When (trigger,
 * rule_trigger.js) → If (condition) → Then (actions, rule_actions.js / rule_notify.js) → options —
 * with the test run panel beside them (rule_trial.js). The pickers come from GET
 * /designer/api/rule-choices (registries + the tenant), never from lists written here. Every edit
 * mutates ctx.definition and calls ctx.changed(); structural edits re-render the sections.
 * showProblems puts each {path, message} under the input it is about (see QDRule.placeProblems).
 * Scripts: rule_kit.js, rule_trigger.js, rule_actions.js, rule_notify.js, rule_trial.js, rule_designer.js.
 */
(function () {
  "use strict";
  var QD = window.QD, R = window.QDRule, el = R.el;

  function apiUrls(config) {
    var draft = (config.urls && config.urls.draft) || "/designer/api/drafts/rule/x";
    var base = draft.split("/api/drafts/")[0] + "/api";
    return {choices: base + "/rule-choices", cron: base + "/rules/cron", trial: base + "/rules/trial",
      trialRecords: base + "/rules/trial-records"};
  }

  function optionsSection(scope) {
    var def = scope.definition;
    var enabled = el("input", {type: "checkbox", checked: def.enabled !== false, "data-testid": "rule-enabled"});
    enabled.addEventListener("change", function () {
      if (enabled.checked) delete def.enabled; else def.enabled = false;
      scope.changed();
    });
    return el("section", {class: "qr-section qr-more"},
      el("h3", {class: "qr-step"}, QD.t("其他设置", "Other settings")),
      R.field({label: QD.t("发布后启用", "Enabled when published"), path: "/enabled", inline: true}, enabled),
      R.field({label: QD.t("批量操作（导入、批量修改）时", "During bulk operations (import, bulk edit)"), path: "/batch"},
        R.select([{value: "each", text: QD.t("每条记录各触发一次", "Fire once per record")},
          {value: "once", text: QD.t("每批只触发一次", "Fire once per batch")}], def.batch || "each", function (v) {
          if (v === "each") delete def.batch; else def.batch = v;
          scope.changed();
        }, {"data-testid": "rule-batch"})));
  }

  function mount(root, ctx) {
    var scope = {definition: ctx.definition, choices: null, editors: [], urls: apiUrls(ctx.config), root: root,
      changed: function () { ctx.changed(); }, render: render, focusPath: focusPath};
    var state = {problems: []};
    var general = el("div", {class: "qr-general", role: "alert", "data-testid": "rule-problems", hidden: true});
    var main = el("div", {class: "qr-main", "data-testid": "rule-editor"});
    var side = el("aside", {class: "qr-side", "aria-label": QD.t("试运行", "Test run")});
    var column = el("div", {class: "qr-column"}, general, main);
    root.textContent = "";
    root.appendChild(el("div", {class: "qr-editor"}, column, side));
    main.appendChild(el("div", {class: "qd-loading"}, QD.t("加载中…", "Loading…")));
    var trial = null;

    function normalise(def) {
      if (def.format === undefined) def.format = 1;
      if (!def.trigger || typeof def.trigger !== "object") def.trigger = {type: "record_created"};
      if (!Array.isArray(def.actions)) def.actions = [];
      return def;
    }

    function render() {
      if (!scope.choices) return;
      var y = column.scrollTop;
      scope.editors.forEach(function (e) { try { if (e && e.destroy) e.destroy(); } catch (err) { /* already gone */ } });
      scope.editors = [];
      normalise(scope.definition);
      main.textContent = "";
      main.appendChild(R.triggerSection(scope));
      main.appendChild(el("div", {class: "qr-arrow", "aria-hidden": "true"}, "↓"));
      main.appendChild(R.conditionSection(scope));
      main.appendChild(el("div", {class: "qr-arrow", "aria-hidden": "true"}, "↓"));
      main.appendChild(R.actionsSection(scope));
      main.appendChild(optionsSection(scope));
      if (!trial) { trial = R.trialPanel(scope); side.appendChild(trial.node); } else { trial.reset(); }
      R.placeProblems(main, general, state.problems);
      column.scrollTop = y;
    }

    function focusPath(path) {
      var best = null;
      main.querySelectorAll("[data-qr-path]").forEach(function (slot) {
        var at = slot.getAttribute("data-qr-path");
        if ((path === at || path.indexOf(at + "/") === 0) && (!best || at.length > best.getAttribute("data-qr-path").length)) best = slot;
      });
      if (!best) return;
      if (best.scrollIntoView) best.scrollIntoView({block: "center"});
      var input = best.querySelector("input, select, textarea, button");
      if (input) input.focus();
    }

    var ready = (async function load() {
      var reply = await QD.api("GET", scope.urls.choices);
      if (!reply.ok) {
        main.textContent = "";
        main.appendChild(el("div", {class: "qd-missing", role: "alert"}, QD.errorText(reply)));
        return;
      }
      scope.choices = reply.data;
      render();
    })();

    return {
      ready: ready,          // the shell marks the designer interactive once the pickers are there
      showProblems: function (list) {
        state.problems = (list || []).map(function (p) { return {path: R.pointer(p.path), message: p.message}; });
        if (scope.choices) R.placeProblems(main, general, state.problems);
      },
      reload: function (definition) {
        scope.definition = definition;
        render();
      },
      beforePublish: function () {
        return true;
      },
    };
  }

  QD.registerEditor("rule", {mount: mount});
})();
