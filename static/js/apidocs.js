// The API documentation page: Swagger UI (self-hosted) over the document named in data-spec-url.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("apidocs");
    if (!node || typeof window.SwaggerUIBundle !== "function") return;
    window.SwaggerUIBundle({
      url: node.getAttribute("data-spec-url"),
      domNode: node,
      deepLinking: true,
      validatorUrl: null, // never ask an outside validator
      tryItOutEnabled: false,
    });
  });
})();
