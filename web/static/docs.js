// /docs: Swagger UI on this service's /openapi.yaml. Requests ("Try it out") go to this
// origin whatever `servers` the document lists; the token given to "Authorize" lives in the
// page only (persistAuthorization false); no validator badge (it would call a third-party host).
(function () {
  'use strict';

  var origin = window.location.origin;

  function showError(message) {
    var root = document.getElementById('swagger-ui');
    var p = document.createElement('p');
    p.className = 'docs-error';
    p.setAttribute('role', 'alert');
    p.textContent = message;
    root.insertBefore(p, root.firstChild);
  }

  if (typeof window.SwaggerUIBundle !== 'function') {
    var loading = document.getElementById('docs-loading');
    if (loading) loading.remove();
    showError("Le moteur de la page (Swagger UI) n'est pas installé sur ce serveur : lancez scripts/web-deps.sh. Le contrat brut reste lisible sur /openapi.yaml.");
    return;
  }

  // The document's `servers` name the default local address; this page talks to the server
  // that served it.
  var sameOriginServers = function () {
    return {
      statePlugins: {
        spec: {
          wrapActions: {
            updateJsonSpec: function (original) {
              return function (json) {
                if (json && typeof json === 'object') {
                  json = Object.assign({}, json, {
                    servers: [{ url: origin, description: 'Ce serveur' }],
                  });
                }
                return original(json);
              };
            },
          },
        },
      },
    };
  };

  window.ui = window.SwaggerUIBundle({
    url: '/openapi.yaml',
    dom_id: '#swagger-ui',
    deepLinking: true,
    tryItOutEnabled: true,
    persistAuthorization: false,
    displayRequestDuration: true,
    filter: true,
    validatorUrl: null,
    withCredentials: false,
    queryConfigEnabled: false,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    presets: [window.SwaggerUIBundle.presets.apis],
    plugins: [sameOriginServers],
    layout: 'BaseLayout',
    requestInterceptor: function (req) {
      // Belt and braces: never send a request to another host than this one.
      try {
        var u = new URL(req.url, origin);
        if (u.origin !== origin) req.url = origin + u.pathname + u.search;
      } catch (e) {
        /* leave relative URLs as they are */
      }
      return req;
    },
    onComplete: function () {
      var loading = document.getElementById('docs-loading');
      if (loading) loading.remove();
    },
    onFailure: function () {
      showError("La référence n'a pas pu être chargée depuis /openapi.yaml.");
    },
  });
})();
