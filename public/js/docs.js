// The API docs page: Swagger UI (served from node_modules at /vendor/swagger-ui/) over /openapi.json.
// No validator badge and no other request leaves this server.
/* global SwaggerUIBundle */
SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
});
