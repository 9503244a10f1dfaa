/* Starts Swagger UI on the OpenAPI document (templates/openapi/swagger.html); a static file, so that a
   Content-Security-Policy can forbid inline script. */
(function () {
  'use strict';
  var root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: root.dataset.url,
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
}());
