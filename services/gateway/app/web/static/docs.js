// Swagger UI on the committed public document; "Try it out" uses the dashboard session cookie.
window.ui = SwaggerUIBundle({ url: "/api/v1/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
