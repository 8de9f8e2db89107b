// The apps page and the app overview: the "new app" and "new form/flow/rule/report/dashboard"
// dialogs (server-rendered <form data-qd-create> inside a <dialog>). The key is generated from the
// English label until the user edits it; it is checked as an identifier before anything is sent.
(function () {
  "use strict";
  const QD = window.QD;

  function showError(form, message, problems) {
    const box = form.querySelector(".qd-dialog-error");
    box.textContent = "";
    box.appendChild(QD.el("div", {}, message));
    (problems || []).forEach(function (p) {
      box.appendChild(QD.el("div", {class: "qd-problem"}, p.path ? QD.el("code", {}, p.path) : null, " ", p.message || ""));
    });
    box.hidden = false;
  }

  function wireKey(form) {
    const source = form.querySelector("[data-qd-key-source]");
    const keyInput = form.querySelector("[data-qd-key]");
    if (!source || !keyInput) return;
    let touched = false;
    keyInput.addEventListener("input", function () { touched = keyInput.value !== ""; });
    source.addEventListener("input", function () {
      if (!touched) keyInput.value = QD.keyFrom(source.value);
    });
  }

  async function submit(form) {
    const data = new FormData(form);
    const key = String(data.get("key") || "").trim();
    const empty = ["label_zh", "label_en"].filter(function (name) { return !String(data.get(name) || "").trim(); });
    if (empty.length) {
      showError(form, QD.t("请填写中文和英文名称", "Enter the name in both Chinese and English"));
      form.querySelector("[name=" + empty[0] + "]").focus();
      return;
    }
    if (!QD.KEY_PATTERN.test(key)) {
      showError(form, QD.t("标识必须以小写字母开头，只含小写字母、数字和下划线（最多 40 个字符）",
        "The key must start with a lowercase letter and contain only lowercase letters, digits and underscores (at most 40)"));
      form.querySelector("[data-qd-key]").focus();
      return;
    }
    const body = {key: key, label: {"zh-CN": String(data.get("label_zh") || "").trim(), en: String(data.get("label_en") || "").trim()}};
    if (data.get("form")) body.form = String(data.get("form"));
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const reply = await QD.api("POST", form.getAttribute("data-url"), body);
    button.disabled = false;
    if (!reply.ok) {
      showError(form, QD.errorText(reply), reply.data && reply.data.errors);
      return;
    }
    const created = (reply.data && reply.data.key) || key;
    window.location.href = form.getAttribute("data-next").replace("{key}", encodeURIComponent(created));
  }

  document.querySelectorAll("form[data-qd-create]").forEach(function (form) {
    wireKey(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit(form);
    });
  });
})();
