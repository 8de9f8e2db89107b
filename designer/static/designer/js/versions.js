// The versions drawer: every published version (number, time, by whom), "View" (read-only: a short
// summary of what the version holds and its JSON) and "Restore as draft" (the old version becomes the
// draft; the editor reloads it). QD.Versions.open(shell).
(function () {
  "use strict";
  const QD = window.QD;

  function count(list) { return Array.isArray(list) ? list.length : 0; }

  function countFields(fields) {
    return (fields || []).reduce(function (n, f) { return n + 1 + countFields(f && f.fields); }, 0);
  }

  // A line such as "12 fields (3 in sub-tables)" / "5 nodes" for a definition of `kind`.
  function summary(kind, d) {
    d = d || {};
    const facts = [];
    if (kind === "form") {
      const all = countFields(d.fields);
      facts.push(QD.t(all + " 个字段", all + " fields") + (all > count(d.fields)
        ? QD.t("（子表中 " + (all - count(d.fields)) + " 个）", " (" + (all - count(d.fields)) + " in sub-tables)") : ""));
      if (d.layout && count(d.layout.sections)) facts.push(QD.t(count(d.layout.sections) + " 个分区", count(d.layout.sections) + " sections"));
    } else if (kind === "flow") {
      facts.push(QD.t(count(d.nodes) + " 个节点", count(d.nodes) + " nodes"));
      if (d.form) facts.push(QD.t("表单 ", "form ") + d.form);
    } else if (kind === "rule") {
      if (d.trigger && d.trigger.type) facts.push(QD.t("触发：", "trigger: ") + d.trigger.type);
      facts.push(QD.t(count(d.actions) + " 个动作", count(d.actions) + " actions"));
    } else if (kind === "report") {
      const ds = d.dataset || {};
      if (ds.form || d.form) facts.push(QD.t("表单 ", "form ") + (ds.form || d.form));
      if (d.chart && d.chart.type) facts.push(QD.t("图表：", "chart: ") + d.chart.type);
      facts.push(QD.t(count(ds.measures) + " 个度量", count(ds.measures) + " measures"));
    } else if (kind === "dashboard") {
      facts.push(QD.t(count(d.items) + " 个组件", count(d.items) + " items"));
    }
    return facts.join(" · ");
  }

  function open(shell) {
    const urls = shell.ctx.config.urls;
    const kind = shell.ctx.config.kind;
    const dlg = QD.openDialog({title: QD.t("版本", "Versions"), testid: "versions-drawer", className: "qd-drawer",
      content: QD.el("p", {class: "muted"}, QD.t("加载中…", "Loading…"))});

    async function showList() {
      const reply = await QD.api("GET", urls.versions);
      if (!reply.ok) { dlg.setContent(QD.el("p", {class: "qd-error-text"}, QD.errorText(reply))); return; }
      const items = (reply.data && reply.data.items) || [];
      if (!items.length) {
        dlg.setContent(QD.el("p", {class: "muted"}, QD.t("还没有发布过的版本。", "Nothing has been published yet.")));
        return;
      }
      const current = shell.state.publishedVersion;
      dlg.setContent(QD.el("ol", {class: "qd-version-list", reversed: true}, items.map(function (v) {
        return QD.el("li", {"data-testid": "version-" + v.version},
          QD.el("div", {class: "qd-version-head"}, QD.el("strong", {}, "v" + v.version),
            v.version === current ? QD.el("span", {class: "qd-badge qd-badge-ok"}, QD.t("当前", "Current")) : null),
          QD.el("div", {class: "muted"}, QD.formatTime(v.published_at), v.published_by_name ? " · " + v.published_by_name : ""),
          QD.el("div", {class: "qd-version-actions"},
            QD.el("button", {type: "button", "data-testid": "view-" + v.version, onclick: function () { view(v.version); }}, QD.t("查看", "View")),
            QD.el("button", {type: "button", "data-testid": "restore-" + v.version, onclick: function () { restore(v.version); }},
              QD.t("恢复为草稿", "Restore as draft"))));
      })));
      const first = dlg.body.querySelector("button");
      if (first) first.focus();
    }

    async function view(n) {
      const reply = await QD.api("GET", urls.version.replace("{n}", n));
      if (!reply.ok) { QD.toast(QD.errorText(reply), "error"); return; }
      const d = reply.data.definition || {};
      const back = QD.el("button", {type: "button", "data-testid": "versions-back", onclick: showList}, "← " + QD.t("所有版本", "All versions"));
      dlg.setContent(QD.el("div", {class: "qd-version-view", "data-testid": "version-view"},
        back,
        QD.el("h3", {}, "v" + n + " · " + (QD.label(d.label) || d.key || "")),
        QD.el("p", {class: "qd-version-summary"}, summary(kind, d)),
        QD.el("p", {class: "muted"}, n > 1 ? QD.t("此版本相对 v" + (n - 1) + " 的变更：", "What this version changed from v" + (n - 1) + ":")
                                           : QD.t("第一个版本的内容：", "What the first version holds:")),
        QD.Publish && QD.Publish.changesView ? QD.Publish.changesView(reply.data.changes || []) : null,
        QD.el("details", {class: "qd-version-json"}, QD.el("summary", {}, QD.t("定义（JSON，只读）", "Definition (JSON, read-only)")),
          QD.el("pre", {class: "qd-json", tabindex: "0", "aria-label": QD.t("版本定义（只读）", "The version's definition (read-only)")},
            QD.prettyJSON(d))),
        QD.el("button", {type: "button", class: "primary", "data-testid": "restore-" + n, onclick: function () { restore(n); }},
          QD.t("恢复为草稿", "Restore as draft"))));
      back.focus();
    }

    async function restore(n) {
      const ok = await QD.confirm(QD.t("用 v" + n + " 替换当前草稿？（已发布的版本不变）", "Replace the current draft with v" + n + "? (Published versions stay as they are.)"),
        {ok: QD.t("恢复为草稿", "Restore as draft"), testid: "restore-dialog"});
      if (!ok) return;
      if (!(await shell.flush()) && shell.state.conflict) { dlg.close(); return; }
      const reply = await QD.api("POST", urls.restore.replace("{n}", n), {revision: shell.state.revision});
      if (reply.status === 409 && reply.data && reply.data.current) { dlg.close(); shell.showConflict(reply.data.current); return; }
      if (!reply.ok) { QD.toast(QD.errorText(reply), "error"); return; }
      dlg.close();
      await shell.loadDraft();
      QD.toast(QD.t("已将 v" + n + " 恢复为草稿", "v" + n + " restored as the draft"), "ok");
    }

    showList();
  }

  QD.Versions = {open: open, summary: summary};
})();
