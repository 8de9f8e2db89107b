// The designer's shared toolkit: window.QD. Loaded first on every designer page.
// QD.t / QD.lang (UI language), QD.api (JSON with the CSRF header; never throws for HTTP errors),
// QD.el (safe DOM builder: strings become text nodes), QD.label (a bilingual label's text),
// QD.toast, QD.registerEditor (editors register themselves; shell.js mounts the one of the page),
// and small helpers the shell and the pages share (time formatting, keys from labels).
(function () {
  "use strict";
  const QD = window.QD = window.QD || {};
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";

  QD.lang = (document.documentElement.lang || "").toLowerCase().startsWith("en") ? "en" : "zh-CN";

  QD.t = function (zh, en) {
    return QD.lang === "en" ? en : zh;
  };

  // One JSON request: resolves {ok, status, data}; a network failure is status 0 with an error body.
  QD.api = async function (method, url, body, options) {
    const init = {
      method: method || "GET",
      credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": csrf},
      keepalive: Boolean(options && options.keepalive),
    };
    if (body !== undefined && body !== null) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (err) {
      return {ok: false, status: 0, data: {error: {code: "network",
        message: QD.t("网络连接失败，请检查网络后重试", "The network request failed; check the connection and retry")}}};
    }
    let data = null;
    try { data = await res.json(); } catch (err) { data = null; }
    return {ok: res.ok, status: res.status, data: data};
  };

  // The error message of a failed QD.api reply, in the user's language.
  QD.errorText = function (reply) {
    const err = reply && reply.data && reply.data.error;
    if (err && err.message) return err.message;
    return QD.t("请求失败（" + (reply ? reply.status : "?") + "）", "The request failed (" + (reply ? reply.status : "?") + ")");
  };

  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }

  // QD.el("button", {class: "primary", onclick: fn, dataset: {testid: "x"}, disabled: true}, "text", childNode)
  QD.el = function (tag, attrs) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      const value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name.startsWith("on") && typeof value === "function") {
        node.addEventListener(name.slice(2).toLowerCase(), value);
      } else if (name === "class" || name === "className") {
        node.className = value;
      } else if (name === "dataset") {
        Object.keys(value).forEach(function (k) { node.dataset[k] = value[k]; });
      } else if (name === "style" && typeof value === "object") {
        Object.assign(node.style, value);
      } else if (name === "text") {
        node.textContent = value;
      } else if (name === "value" || name === "checked" || name === "selected") {
        node[name] = value;
      } else {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    });
    for (let i = 2; i < arguments.length; i += 1) append(node, arguments[i]);
    return node;
  };

  // A definition label ({"zh-CN", "en"}) or a plain string, in the UI language (falls back to the other).
  QD.label = function (value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "string") return value;
    const other = QD.lang === "en" ? "zh-CN" : "en";
    return value[QD.lang] || value[other] || value.zh || "";
  };

  let toasts = null;
  QD.toast = function (message, kind) {
    if (!toasts) toasts = QD.el("div", {class: "qd-toasts", "aria-live": "polite", role: "status"});
    // inside the top open modal dialog, if any: the rest of the page sits under its backdrop
    const dialogs = document.querySelectorAll("dialog[open]");
    const host = dialogs.length ? dialogs[dialogs.length - 1] : document.body;
    if (toasts.parentNode !== host) host.appendChild(toasts);
    const item = QD.el("div", {class: "qd-toast qd-toast-" + (kind || "info"), "data-testid": "toast"}, message);
    toasts.appendChild(item);
    setTimeout(function () { item.classList.add("qd-toast-out"); }, kind === "error" ? 6000 : 3500);
    setTimeout(function () { item.remove(); }, kind === "error" ? 6500 : 4000);
    return item;
  };

  // "10:32" today, "11-19 10:32" this year, "2025-11-19 10:32" otherwise.
  QD.formatTime = function (iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    const pad = function (n) { return String(n).padStart(2, "0"); };
    const time = pad(d.getHours()) + ":" + pad(d.getMinutes());
    const now = new Date();
    if (d.toDateString() === now.toDateString()) return time;
    const day = pad(d.getMonth() + 1) + "-" + pad(d.getDate());
    return (d.getFullYear() === now.getFullYear() ? day : d.getFullYear() + "-" + day) + " " + time;
  };

  QD.KEY_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

  // A lower_snake identifier from an English label ("Incoming lot" → "incoming_lot"); "" if none.
  QD.keyFrom = function (text) {
    let key = String(text || "").toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
    key = key.replace(/^[0-9_]+/, "");
    return key.slice(0, 40).replace(/_+$/, "");
  };

  QD.editors = QD.editors || {};
  // An editor kind ("form", "flow", …) with {mount(root, ctx) → editor}; see shell.js for ctx.
  QD.registerEditor = function (kind, spec) {
    if (!spec || typeof spec.mount !== "function") throw new Error("QD.registerEditor(" + kind + "): mount(root, ctx) is required");
    QD.editors[kind] = spec;
  };

  // Pretty JSON for read-only views (text only: shown with textContent).
  QD.prettyJSON = function (value) {
    try { return JSON.stringify(value, null, 2); } catch (err) { return String(value); }
  };
})();
