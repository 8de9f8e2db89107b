// The API reference page: Swagger UI on this tenant's OpenAPI document (data-spec-url).
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  if (!node || typeof SwaggerUIBundle !== "function") return;
  window.ui = SwaggerUIBundle({
    url: node.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,                 // no calls to an outside validator
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // "Try it out" from this signed-in page: the session cookie needs the CSRF header
    requestInterceptor: function (req) {
      req.headers["X-CSRFToken"] = window.QMS.csrfToken;
      return req;
    }
  });
})();
