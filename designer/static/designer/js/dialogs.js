// Modal dialogs and drawers for the designer, on the native <dialog> element: showModal() makes the
// rest of the page inert (focus stays inside), Escape closes, focus returns to where it was.
// QD.openDialog({title, testid, className, content, actions, onClose}) → {dialog, body, footer, close, setBusy}
// QD.confirm(message, {ok, danger, testid}) → Promise<boolean>
// Also wires the server-rendered dialogs of the apps and app pages ([data-qd-open] / [data-qd-close]).
(function () {
  "use strict";
  const QD = window.QD;

  function actionButton(action, close) {
    const button = QD.el("button", {type: "button", class: (action.primary ? "primary" : "") + (action.danger ? " danger" : ""),
      "data-testid": action.testid || null, disabled: action.disabled || null}, action.text);
    button.addEventListener("click", function () {
      if (action.onClick) action.onClick(button, close);
      else close();
    });
    return button;
  }

  QD.openDialog = function (opts) {
    const returnTo = document.activeElement;
    const titleId = "qd-dlg-" + Math.random().toString(36).slice(2, 9);
    const body = QD.el("div", {class: "qd-dialog-content"}, opts.content || null);
    const footer = QD.el("div", {class: "qd-dialog-actions"});
    const closeX = QD.el("button", {type: "button", class: "qd-dialog-x", "aria-label": QD.t("关闭", "Close"),
      "data-testid": "dialog-close"}, "×");
    const dialog = QD.el("dialog", {class: "qd-dialog " + (opts.className || ""), "aria-labelledby": titleId,
      "data-testid": opts.testid || null},
      QD.el("div", {class: "qd-dialog-body"},
        QD.el("div", {class: "qd-dialog-head"}, QD.el("h2", {id: titleId}, opts.title || ""), closeX),
        body, footer));
    let closed = false;
    function close(result) {
      if (closed) return;
      closed = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      if (returnTo && typeof returnTo.focus === "function" && document.contains(returnTo)) returnTo.focus();
      if (opts.onClose) opts.onClose(result);
    }
    closeX.addEventListener("click", function () { close(); });
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); close(); });   // Escape
    dialog.addEventListener("click", function (event) { if (event.target === dialog) close(); }); // backdrop
    (opts.actions || []).forEach(function (action) { footer.appendChild(actionButton(action, close)); });
    document.body.appendChild(dialog);
    dialog.showModal();
    const first = dialog.querySelector("[autofocus]") || footer.querySelector("button.primary:not([disabled])") || closeX;
    first.focus();
    return {
      dialog: dialog, body: body, footer: footer, close: close,
      setContent: function () {
        body.textContent = "";
        for (let i = 0; i < arguments.length; i += 1) if (arguments[i]) body.appendChild(arguments[i]);
      },
      setActions: function (actions) {
        footer.textContent = "";
        actions.forEach(function (action) { footer.appendChild(actionButton(action, close)); });
      },
    };
  };

  QD.confirm = function (message, opts) {
    opts = opts || {};
    return new Promise(function (resolve) {
      let answer = false;
      QD.openDialog({
        title: opts.title || QD.t("请确认", "Please confirm"), testid: opts.testid || "confirm-dialog",
        className: "qd-dialog-small", content: QD.el("p", {}, message),
        actions: [
          {text: QD.t("取消", "Cancel"), testid: "confirm-cancel"},
          {text: opts.ok || QD.t("确定", "OK"), primary: !opts.danger, danger: Boolean(opts.danger), testid: "confirm-ok",
            onClick: function (_b, close) { answer = true; close(); }},
        ],
        onClose: function () { resolve(answer); },
      });
    });
  };

  // Server-rendered <dialog>s: a button with data-qd-open="<dialog id>" opens one; [data-qd-close] closes it.
  document.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-qd-open]");
    if (opener) {
      const dialog = document.getElementById(opener.getAttribute("data-qd-open"));
      if (dialog && !dialog.open) {
        dialog.showModal();
        const first = dialog.querySelector("input, select, textarea");
        if (first) first.focus();
      }
      return;
    }
    const closer = event.target.closest("[data-qd-close]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) dialog.close();
    }
  });
})();
