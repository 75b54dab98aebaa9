// The API documentation page: Swagger UI (self-hosted) over the document named in data-spec-url.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("apidocs");
    if (!node || typeof window.SwaggerUIBundle !== "function") return;
    window.SwaggerUIBundle({
      url: node.getAttribute("data-spec-url"),
      domNode: node,
      // Deep links put a link inside each operation's toggle button: nested controls that
      // screen readers cannot reach (WCAG 4.1.2).
      deepLinking: false,
      validatorUrl: null, // never ask an outside validator
      tryItOutEnabled: false,
    });
    // Swagger UI wraps the servers <select> in an empty <label>: give it the page's own name.
    var label = node.getAttribute("data-servers-label");
    new MutationObserver(function () {
      var select = node.querySelector("select#servers:not([aria-label])");
      if (select) select.setAttribute("aria-label", label);
    }).observe(node, { childList: true, subtree: true });
  });
})();
