// Swagger UI's start, in a file of its own so the page's CSP can forbid inline script. The page names
// the OpenAPI document and the OAuth2 redirect page in data- attributes of the mount point.
(function () {
  "use strict";
  var mount = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: mount.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    // About 150 operations: the filter box narrows them to the tags matching what is typed.
    filter: true,
    showExtensions: true,
    showCommonExtensions: true,
    // The default posts the document to validator.swagger.io: nothing leaves our host.
    validatorUrl: null,
    oauth2RedirectUrl: new URL(mount.dataset.oauth2RedirectUrl, window.location.href).href,
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
