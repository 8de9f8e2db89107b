// Shared page helpers. fetch() calls from our pages send the CSRF token in a header.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  window.QMS = window.QMS || {};
  window.QMS.csrfToken = meta ? meta.content : "";
  window.QMS.postJSON = async function (url, body, method) {
    const res = await fetch(url, {
      method: method || "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": window.QMS.csrfToken, "Accept": "application/json"},
      body: JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return {status: res.status, ok: res.ok, data: data};
  };
})();
