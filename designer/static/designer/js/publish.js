// The publish dialog: saves pending work, asks the server what publishing would do (plan) and shows
// it readably — Changes (added / removed / changed, with labels and details), Effect on existing
// data, Cannot publish (red; confirm disabled), Problems (with paths) — then publishes on confirm
// with the draft's revision. QD.Publish.open(shell).
(function () {
  "use strict";
  const QD = window.QD;
  const GROUPS = [
    {kind: "added", icon: "+", zh: "新增", en: "Added"},
    {kind: "removed", icon: "−", zh: "删除", en: "Removed"},
    {kind: "changed", icon: "~", zh: "修改", en: "Changed"},
  ];
  const WHAT = {field: ["字段", "Field"], node: ["节点", "Node"], property: ["属性", "Property"], action: ["动作", "Action"],
    option: ["选项", "Option"], item: ["组件", "Item"], measure: ["度量", "Measure"], dimension: ["维度", "Dimension"],
    filter: ["筛选", "Filter"], section: ["分区", "Section"], trigger: ["触发", "Trigger"], condition: ["条件", "Condition"]};

  function whatText(what) {
    const pair = WHAT[what];
    return pair ? QD.t(pair[0], pair[1]) : (what || "");
  }

  function section(title, testid, cls, children) {
    return QD.el("section", {class: "qd-plan-section " + (cls || ""), "data-testid": testid}, QD.el("h3", {}, title), children);
  }

  function changesView(changes) {
    if (!changes.length) return section(QD.t("变更", "Changes"), "diff", "", QD.el("p", {class: "muted"},
      QD.t("与已发布版本相比没有变化。", "No changes compared with the published version.")));
    const groups = GROUPS.map(function (g) {
      const items = changes.filter(function (c) { return c.kind === g.kind; });
      if (!items.length) return null;
      return QD.el("div", {class: "qd-diff-group qd-diff-" + g.kind, "data-testid": "diff-" + g.kind},
        QD.el("h4", {}, QD.t(g.zh, g.en) + " (" + items.length + ")"),
        QD.el("ul", {}, items.map(function (c) {
          return QD.el("li", {},
            QD.el("span", {class: "qd-diff-icon", "aria-hidden": "true"}, g.icon),
            QD.el("span", {class: "qd-diff-what"}, whatText(c.what)),
            QD.el("strong", {}, QD.label(c.label) || c.path || ""),
            c.detail ? QD.el("span", {class: "qd-diff-detail"}, QD.label(c.detail)) : null,
            c.path ? QD.el("code", {class: "qd-path"}, c.path) : null);
        })));
    });
    const other = changes.filter(function (c) { return !GROUPS.some(function (g) { return g.kind === c.kind; }); });
    if (other.length) groups.push(QD.el("ul", {}, other.map(function (c) { return QD.el("li", {}, QD.label(c.label) || c.path, " ", QD.label(c.detail)); })));
    return section(QD.t("变更", "Changes"), "diff", "", groups);
  }

  function impactView(impact) {
    impact = impact || {};
    const facts = [];
    if (typeof impact.records === "number") facts.push(QD.t("现有记录：" + impact.records, "Existing records: " + impact.records));
    if (typeof impact.running_flows === "number") facts.push(QD.t("进行中的流程：" + impact.running_flows, "Running flows: " + impact.running_flows));
    const messages = (impact.messages || []).map(function (m) { return QD.el("li", {}, QD.label(m && m.message !== undefined ? m.message : m)); });
    return section(QD.t("对现有数据的影响", "Effect on existing data"), "impact", "",
      [facts.length ? QD.el("p", {class: "qd-impact-facts"}, facts.join(" · ")) : null,
        messages.length ? QD.el("ul", {}, messages) : QD.el("p", {class: "muted"}, QD.t("现有数据不受影响。", "Existing data is not affected."))]);
  }

  function problemList(items) {
    return QD.el("ul", {class: "qd-problem-list"}, items.map(function (p) {
      return QD.el("li", {}, QD.el("span", {}, QD.label(p.message)), p.path ? QD.el("code", {class: "qd-path"}, p.path) : null);
    }));
  }

  function planView(plan) {
    const refused = plan.refused || [];
    const problems = plan.problems || [];
    return QD.el("div", {class: "qd-plan"},
      refused.length ? section(QD.t("无法发布", "Cannot publish"), "refused", "qd-plan-refused", problemList(refused)) : null,
      problems.length ? section(QD.t("问题", "Problems"), "plan-problems", "qd-plan-problems", problemList(problems)) : null,
      changesView(plan.changes || []),
      impactView(plan.impact));
  }

  async function open(shell) {
    if (shell.state.conflict) { QD.toast(QD.t("请先解决冲突", "Resolve the conflict first"), "error"); return; }
    const editor = shell.state.editor;
    if (editor && typeof editor.beforePublish === "function") {
      const go = await editor.beforePublish();
      if (go === false) return;
    }
    if (!(await shell.flush())) { QD.toast(QD.t("草稿未能保存，无法发布", "The draft could not be saved, so it cannot be published"), "error"); return; }
    if (!shell.state.revision) {
      QD.toast(QD.t("没有草稿变更需要发布", "There are no draft changes to publish"));
      return;
    }
    const dlg = QD.openDialog({title: QD.t("发布", "Publish"), testid: "publish-dialog", className: "qd-dialog-wide",
      content: QD.el("p", {class: "muted"}, QD.t("正在计算发布会做什么…", "Working out what publishing will do…")),
      actions: [{text: QD.t("取消", "Cancel"), testid: "cancel-publish"},
        {text: QD.t("确认发布", "Publish"), primary: true, disabled: true, testid: "confirm-publish"}]});
    const reply = await QD.api("POST", shell.ctx.config.urls.plan, {});
    if (!reply.ok) {
      dlg.setContent(QD.el("p", {class: "qd-error-text"}, QD.errorText(reply)),
        reply.data && reply.data.errors ? problemList(reply.data.errors) : null);
      return;
    }
    const plan = reply.data || {};
    const blocked = (plan.refused || []).length > 0 || (plan.problems || []).length > 0;
    dlg.setContent(planView(plan));
    dlg.setActions([{text: QD.t("取消", "Cancel"), testid: "cancel-publish"},
      {text: QD.t("确认发布", "Publish"), primary: true, disabled: blocked, testid: "confirm-publish",
        onClick: function (button) { confirm(shell, dlg, button); }}]);
    const confirmButton = dlg.footer.querySelector("[data-testid=confirm-publish]");
    if (!blocked) confirmButton.focus();
  }

  async function confirm(shell, dlg, button) {
    button.disabled = true;
    button.textContent = QD.t("发布中…", "Publishing…");
    const reply = await QD.api("POST", shell.ctx.config.urls.publish, {revision: shell.state.revision});
    if (reply.ok) {
      const version = reply.data.version;
      dlg.close();
      QD.toast(QD.t("已发布 v" + version, "Published v" + version), "ok");
      document.dispatchEvent(new CustomEvent("qd:published", {detail: {version: version}}));
      await refresh(shell, version);
      return;
    }
    if (reply.status === 409 && reply.data && reply.data.current) {
      dlg.close();
      shell.showConflict(reply.data.current);
      return;
    }
    const errors = (reply.data && reply.data.errors) || [];
    dlg.setContent(section(QD.t("无法发布", "Cannot publish"), "refused", "qd-plan-refused",
      [QD.el("p", {}, QD.errorText(reply)), errors.length ? problemList(errors) : null]));
    dlg.setActions([{text: QD.t("关闭", "Close"), testid: "cancel-publish"}]);
  }

  // After publishing the draft is gone: what the editor shows is now the published version.
  async function refresh(shell, version) {
    const state = shell.state;
    state.publishedVersion = version;
    state.revision = 0;
    const reply = await QD.api("GET", shell.ctx.config.urls.draft);
    if (reply.ok) {
      const d = reply.data;
      state.revision = d.revision || 0;
      state.publishedVersion = d.published_version || version;
      Object.assign(shell.ctx.config.draft, {revision: state.revision, published_version: state.publishedVersion,
        published_keys: d.published_keys || [], updated_at: d.updated_at, updated_by_name: d.updated_by_name});
    }
    shell.refreshBadges();
    shell.setStatus();
  }

  QD.Publish = {open: open, planView: planView, changesView: changesView};
})();
