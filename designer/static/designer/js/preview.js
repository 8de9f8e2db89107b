// The form preview page (designer/preview.html), loaded between app.js and the runtime's form.js:
// compute/validate requests carry the unsaved definition when the page was drawn from one, and a
// successful "save" (which only validated) stays on the page instead of following the redirect.
(function () {
  "use strict";
  const configEl = document.getElementById("form-config");
  if (!configEl || !window.QMS || !window.QMS.postJSON) return;
  const config = JSON.parse(configEl.textContent);
  const banner = document.getElementById("preview-banner");
  const post = window.QMS.postJSON;
  let checks = 0;

  function say(text, ok) {
    if (!banner) return;
    banner.textContent = text;
    banner.classList.toggle("ok", !!ok);
  }

  window.QMS.postJSON = async function (url, body, method) {
    const ours = url === config.compute_url || url === config.save_url;
    if (ours && config.definition && body && typeof body === "object") body = Object.assign({}, body, {definition: config.definition});
    const res = await post(url, body, method);
    if (url !== config.save_url) return res;
    if (res.ok && res.data && res.data.preview) {
      checks += 1;
      // form.js follows "redirect": a change of the fragment only, so the page stays as it is
      res.data.redirect = window.location.pathname + window.location.search + "#checked-" + checks;
      say(res.data.message, true);
    } else {
      say((res.data && res.data.error && res.data.error.message) || "", false);
    }
    return res;
  };
})();
