/* Form designer, part 7: the live preview — an iframe of the draft rendered by the runtime's own
 * form page (/designer/apps/<app>/forms/<key>/preview), at desktop or phone width, reloaded after
 * every successful autosave (the shell dispatches `qd:saved` on document).
 */
(function () {
  "use strict";
  var QD = window.QD;
  var FD = QD.FD;
  var M = FD.model;
  var h = M.h;
  var t = M.t;

  function previewUrl(S) {
    var cfg = S.ctx.config || {};
    if (cfg.urls && cfg.urls.preview) { return cfg.urls.preview; }
    return "/designer/apps/" + encodeURIComponent(cfg.app_key) + "/forms/" + encodeURIComponent(cfg.key) + "/preview";
  }

  function reload(S) {
    if (!S.previewOn || !S.el.frame) { return; }
    S.el.frame.src = previewUrl(S) + (previewUrl(S).indexOf("?") >= 0 ? "&" : "?") + "_=" + Date.now();
  }

  function setWidth(S, phone) {
    S.el.previewPane.classList.toggle("fd-phone", phone);
    S.el.frame.style.width = phone ? "390px" : "100%";
    S.el.phoneBtn.setAttribute("aria-pressed", String(phone));
    S.el.desktopBtn.setAttribute("aria-pressed", String(!phone));
  }

  function toggle(S, on) {
    S.previewOn = on;
    S.el.previewPane.hidden = !on;
    S.root.classList.toggle("fd-previewing", on);
    S.el.previewToggle.setAttribute("aria-pressed", String(on));
    if (on) { reload(S); } else { S.el.frame.removeAttribute("src"); }
  }

  function build(S) {
    S.el.previewToggle = h("button", {class: "fd-tool", text: t("预览", "Preview"), testid: "preview-toggle",
      attrs: {type: "button", "aria-pressed": "false"}, on: {click: function () { toggle(S, !S.previewOn); }}});
    S.el.desktopBtn = h("button", {text: t("电脑", "Desktop"), testid: "preview-desktop",
      attrs: {type: "button", "aria-pressed": "true"}, on: {click: function () { setWidth(S, false); }}});
    S.el.phoneBtn = h("button", {text: t("手机", "Phone"), testid: "preview-phone",
      attrs: {type: "button", "aria-pressed": "false"}, on: {click: function () { setWidth(S, true); }}});
    S.el.frame = h("iframe", {class: "fd-preview-frame", testid: "preview-frame",
      attrs: {title: t("表单预览", "Form preview")}});
    S.el.previewPane = h("aside", {class: "fd-preview", testid: "preview", attrs: {hidden: true, "aria-label": t("预览", "Preview")}},
      h("div", {class: "fd-preview-bar"},
        h("strong", {text: t("预览", "Preview")}), S.el.desktopBtn, S.el.phoneBtn,
        h("button", {text: "↻", testid: "preview-reload", attrs: {type: "button", title: t("刷新", "Reload"), "aria-label": t("刷新预览", "Reload the preview")},
          on: {click: function () { reload(S); }}})),
      h("div", {class: "fd-preview-stage"}, S.el.frame));
    S.savedHandler = function () { reload(S); };
    document.addEventListener("qd:saved", S.savedHandler);
  }

  FD.preview = {build: build, reload: reload, toggle: toggle, setWidth: setWidth};
}());
