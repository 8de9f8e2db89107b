// The editor page's shell: mounts the editor of config.kind on #editor-root and owns the draft's
// life: autosave (~800 ms after ctx.changed(), Ctrl+S at once, a prompt when leaving unsaved),
// the save status, the check after every save (problem badge + editor.showProblems), the
// conflict banner (never a silent overwrite), discard, and the Publish / Versions buttons
// (publish.js, versions.js). Events on document: qd:saved {revision}, qd:published {version},
// qd:reloaded {definition}.
//
// ctx = {config, definition, changed(), problems(), expr, forms, reload(definition)}; the editor
// returned by mount may have showProblems(list), reload(definition), beforePublish().
(function () {
  "use strict";
  const QD = window.QD;
  const DELAY = 800;

  function boot() {
    const source = document.getElementById("designer-config");
    const root = document.getElementById("editor-root");
    if (!source || !root) return;
    const config = JSON.parse(source.textContent);
    QD.config = config;
    const page = document.querySelector(".qd-editor");
    const $ = function (sel) { return page.querySelector(sel); };
    const ui = {status: $("[data-testid=save-status]"), problems: $("[data-testid=problems]"),
      problemList: $("[data-testid=problems-list]"), conflict: $("[data-testid=conflict]"),
      version: $("[data-qd-version]"), draft: $("[data-qd-draft]"), discard: $("[data-qd-action=discard]"),
      title: $("[data-testid=definition-title]")};
    const state = {revision: config.draft.revision || 0, publishedVersion: config.draft.published_version || 0,
      changes: 0, savedChanges: 0, saving: null, timer: null, conflict: null, problems: [], editor: null};

    const ctx = {
      config: config, definition: config.draft.definition || {}, forms: config.forms || [], expr: QD.ExpressionEditor,
      changed: function () { state.changes += 1; setStatus(); schedule(); },
      problems: function () { return state.problems.slice(); },
      saveNow: function () { return save(); },
      reload: function (definition) { replaceDefinition(definition); },
    };
    QD.shell = {ctx: ctx, state: state, save: save, flush: flush, loadDraft: loadDraft, check: check, setStatus: setStatus,
      refreshBadges: refreshBadges, showConflict: showConflict};

    function dirty() { return state.changes !== state.savedChanges; }

    function setStatus(text, cls) {
      if (!text) {
        if (state.conflict) { text = QD.t("冲突", "Conflict"); cls = "conflict"; }
        else if (state.saving) { text = QD.t("保存中…", "Saving…"); cls = "saving"; }
        else if (dirty()) { text = QD.t("未保存", "Unsaved"); cls = "dirty"; }
        else { text = QD.t("已保存", "Saved"); cls = "saved"; }
      }
      ui.status.textContent = text;
      ui.status.className = "qd-save-status qd-status-" + cls;
      ui.status.dataset.state = cls;
    }

    function refreshBadges() {
      const label = ctx.definition && QD.label(ctx.definition.label);
      ui.title.textContent = label || config.key;
      ui.version.textContent = state.publishedVersion
        ? QD.t("已发布 v", "Published v") + state.publishedVersion : QD.t("未发布", "Not published");
      ui.version.className = "qd-badge " + (state.publishedVersion ? "qd-badge-ok" : "qd-badge-muted");
      ui.draft.hidden = !state.revision;
      ui.discard.disabled = !state.revision;
    }

    function schedule() {
      clearTimeout(state.timer);
      if (state.conflict) return;
      state.timer = setTimeout(function () { save(); }, DELAY);
    }

    // Save the live definition; resolves true when the stored draft equals what the user sees.
    async function save(options) {
      clearTimeout(state.timer);
      if (state.conflict) return false;
      if (state.saving) { await state.saving; return dirty() ? save(options) : true; }
      if (!dirty()) return true;
      const upTo = state.changes;
      state.saving = QD.api("PUT", config.urls.draft, {definition: ctx.definition, revision: state.revision}, options);
      setStatus();
      const reply = await state.saving;
      state.saving = null;
      if (reply.ok) {
        state.revision = reply.data.revision;
        state.savedChanges = upTo;
        setStatus();
        refreshBadges();
        document.dispatchEvent(new CustomEvent("qd:saved", {detail: {revision: state.revision}}));
        check();
        if (dirty()) schedule();
        return !dirty();
      }
      if (reply.status === 409) {
        showConflict((reply.data && reply.data.current) || {});
      } else {
        setStatus(QD.t("未保存", "Unsaved"), "error");
        QD.toast(QD.t("保存失败：", "Could not save: ") + QD.errorText(reply), "error");
      }
      return false;
    }

    // Save now if there is anything unsaved (before publish, restore, leaving); false when it could not.
    async function flush() {
      if (state.conflict) return false;
      return dirty() || state.saving ? save() : true;
    }

    async function check() {
      const reply = await QD.api("POST", config.urls.check, {definition: ctx.definition});
      if (!reply.ok) return;
      state.problems = (reply.data && reply.data.problems) || [];
      renderProblems();
      if (state.editor && typeof state.editor.showProblems === "function") {
        try { state.editor.showProblems(state.problems.slice()); } catch (err) { console.error(err); }
      }
    }

    function renderProblems() {
      const n = state.problems.length;
      ui.problems.hidden = false;
      ui.problems.textContent = n ? QD.t(n + " 个问题", n + (n === 1 ? " problem" : " problems")) : QD.t("无问题", "No problems");
      ui.problems.classList.toggle("qd-has-problems", n > 0);
      ui.problemList.textContent = "";
      if (!n) { closeProblems(); return; }
      const list = QD.el("ul", {});
      state.problems.forEach(function (p) {
        const item = QD.el("button", {type: "button", class: "qd-problem-item"}, QD.el("span", {}, p.message || ""),
          p.path ? QD.el("code", {}, p.path) : null);
        item.addEventListener("click", function () {
          closeProblems();
          if (state.editor && typeof state.editor.focusProblem === "function") state.editor.focusProblem(p);
        });
        list.appendChild(QD.el("li", {}, item));
      });
      ui.problemList.appendChild(list);
    }

    function closeProblems() {
      ui.problemList.hidden = true;
      ui.problems.setAttribute("aria-expanded", "false");
    }

    ui.problems.addEventListener("click", function () {
      if (!state.problems.length) return;
      const open = ui.problemList.hidden;
      ui.problemList.hidden = !open;
      ui.problems.setAttribute("aria-expanded", String(open));
      if (open) { const first = ui.problemList.querySelector("button"); if (first) first.focus(); }
    });
    document.addEventListener("click", function (event) {
      if (!ui.problemList.hidden && !ui.problemList.contains(event.target) && !ui.problems.contains(event.target)) closeProblems();
    });
    ui.problemList.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { closeProblems(); ui.problems.focus(); }
    });

    function showConflict(current) {
      state.conflict = current;
      clearTimeout(state.timer);
      const who = current.updated_by_name || QD.t("其他人", "Someone else");
      const at = current.updated_at ? QD.formatTime(current.updated_at) : "";
      ui.conflict.querySelector(".qd-conflict-text").textContent = at
        ? QD.t(who + " 在 " + at + " 保存了这个草稿，而你也在编辑。", who + " saved this draft at " + at + " while you were editing.")
        : QD.t(who + " 保存了这个草稿，而你也在编辑。", who + " saved this draft while you were editing.");
      ui.conflict.hidden = false;
      setStatus();
    }

    function clearConflict() {
      state.conflict = null;
      ui.conflict.hidden = true;
      setStatus();
    }

    function replaceDefinition(definition) {
      ctx.definition = definition || {};
      if (state.editor && typeof state.editor.reload === "function") state.editor.reload(ctx.definition);
      document.dispatchEvent(new CustomEvent("qd:reloaded", {detail: {definition: ctx.definition}}));
    }

    // Load the stored draft (or newest published version) and give it to the editor.
    async function loadDraft() {
      const reply = await QD.api("GET", config.urls.draft);
      if (!reply.ok) {
        if (reply.status === 404) { window.location.href = config.urls.app; return false; }
        QD.toast(QD.errorText(reply), "error");
        return false;
      }
      const d = reply.data;
      state.revision = d.revision || 0;
      state.publishedVersion = d.published_version || 0;
      config.draft = {definition: d.definition, revision: state.revision, published_version: state.publishedVersion,
        published_keys: d.published_keys || [], updated_at: d.updated_at, updated_by_name: d.updated_by_name};
      state.savedChanges = state.changes;
      clearConflict();
      replaceDefinition(d.definition);
      refreshBadges();
      check();
      return true;
    }

    page.addEventListener("click", async function (event) {
      const button = event.target.closest("[data-qd-action]");
      if (!button) return;
      const action = button.getAttribute("data-qd-action");
      if (action === "load-theirs") {
        if (await loadDraft()) QD.toast(QD.t("已加载对方保存的草稿", "Loaded the draft they saved"));
      } else if (action === "keep-mine") {
        state.revision = state.conflict.revision;
        clearConflict();
        state.changes += 1;               // what the user sees is unsaved again
        if (await save()) QD.toast(QD.t("已用你的草稿覆盖", "Your draft replaced theirs"));
      } else if (action === "discard") {
        discard();
      } else if (action === "publish" && QD.Publish) {
        QD.Publish.open(QD.shell);
      } else if (action === "versions" && QD.Versions) {
        QD.Versions.open(QD.shell);
      }
    });

    async function discard() {
      const ok = await QD.confirm(state.publishedVersion
        ? QD.t("放弃草稿，回到已发布的 v" + state.publishedVersion + "？", "Discard the draft and go back to published v" + state.publishedVersion + "?")
        : QD.t("这个定义从未发布，放弃草稿会删除它。继续？", "This was never published: discarding the draft deletes it. Continue?"),
        {ok: QD.t("放弃草稿", "Discard draft"), danger: true, testid: "discard-dialog"});
      if (!ok) return;
      clearTimeout(state.timer);
      if (state.saving) await state.saving;
      const reply = await QD.api("DELETE", config.urls.draft, {revision: state.revision});
      if (reply.status === 409) { showConflict((reply.data && reply.data.current) || {}); return; }
      if (!reply.ok) { QD.toast(QD.errorText(reply), "error"); return; }
      QD.toast(QD.t("草稿已放弃", "Draft discarded"));
      state.changes = state.savedChanges;
      if (!state.publishedVersion) { window.location.href = config.urls.app; return; }
      loadDraft();
    }

    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "s" || event.key === "S")) {
        event.preventDefault();
        if (state.conflict) { QD.toast(QD.t("请先解决冲突", "Resolve the conflict first"), "error"); return; }
        save().then(function (ok) { if (ok) setStatus(); });
      }
    });

    window.addEventListener("beforeunload", function (event) {
      if (!dirty() && !state.saving) return;
      if (!state.conflict && !state.saving) save({keepalive: true});   // try to keep the work; still warn
      event.preventDefault();
      event.returnValue = "";
    });

    const spec = QD.editors[config.kind];
    root.textContent = "";
    if (!spec) {
      root.appendChild(QD.el("div", {class: "qd-missing"}, QD.t("这种定义的编辑器还不可用。", "The editor for this kind of definition is not available.")));
    } else {
      try {
        state.editor = spec.mount(root, ctx) || {};
      } catch (err) {
        console.error(err);
        root.appendChild(QD.el("div", {class: "qd-missing"}, QD.t("编辑器加载失败：", "The editor failed to load: ") + err.message));
      }
    }
    refreshBadges();
    setStatus();
    check();
    // The editor is mounted and answers input: the figure the designer benchmark and tests read
    // (Performance API). An editor that loads something first returns `ready` (a promise); the mark
    // is set after the next frame, so the first paint of the editor is included.
    Promise.resolve(state.editor && state.editor.ready).catch(() => null).then(() => {
      requestAnimationFrame(() => { if (performance.mark) performance.mark("qd:interactive"); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
