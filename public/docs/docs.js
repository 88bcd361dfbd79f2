/* global SwaggerUIBundle */
/**
 * The API playground: Swagger UI (swagger-ui-dist, served from this origin) on /openapi.json, plus a
 * production guard. When the selected server is Production (its description in API_SERVERS, or this
 * page is served by the production API and requests go to its own origin), a banner says so, and an
 * operation marked `x-mutating: true` asks for confirmation in a dialog before it is sent; cancelling
 * sends nothing and says so in the response area.
 */
(function () {
  'use strict';

  const config = JSON.parse(document.getElementById('docs-config').textContent);
  const productionUrls = new Set(config.productionUrls.map(normalize));
  const banner = document.getElementById('production-banner');
  const dialog = document.getElementById('production-confirm');

  function normalize(url) {
    return String(url || '').replace(/\/+$/, '');
  }

  /** Is a request to `serverUrl` (the selected server; '' = this page's origin) a request to Production? */
  function isProduction(serverUrl) {
    const url = normalize(serverUrl);
    if (productionUrls.has(url)) return true;
    const own = url === '' || url === normalize(window.location.origin) || url.startsWith('/');
    return own && config.pageIsProduction;
  }

  function updateBanner(serverUrl) {
    const prod = isProduction(serverUrl);
    banner.hidden = !prod;
    document.body.classList.toggle('is-production', prod);
  }

  /** Resolves true when the user chose "Send to Production". */
  function confirmProduction(method, path, serverUrl) {
    document.getElementById('production-confirm-operation').textContent = `${method.toUpperCase()} ${path}`;
    document.getElementById('production-confirm-server').textContent = serverUrl || window.location.origin;
    return new Promise((resolve) => {
      dialog.returnValue = 'cancel';
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'send'), { once: true });
      dialog.showModal();
    });
  }

  /** `x-mutating: true` on the operation, read from the document as loaded (resolved subtrees load lazily). */
  function isMutating(system, path, method) {
    return system.specSelectors.specJson().getIn(['paths', path, String(method).toLowerCase(), 'x-mutating']) === true;
  }

  function selectedServer(system, path, method) {
    const s = system.oas3Selectors;
    return (s.selectedServer(`${path}:${method}`) || s.selectedServer() || '').toString();
  }

  function ProductionGuard() {
    return {
      statePlugins: {
        spec: {
          wrapActions: {
            executeRequest: (execute, system) => (req) => {
              const mutating = isMutating(system, req.pathName, req.method);
              const server = selectedServer(system, req.pathName, req.method);
              if (!mutating || !isProduction(server)) return execute(req);
              return confirmProduction(req.method, req.pathName, server).then((send) => {
                if (send) return execute(req);
                const err = new Error('Not sent: you cancelled a state-changing request to Production.');
                err.name = '';
                system.specActions.setResponse(req.pathName, req.method, { error: true, err });
                return undefined;
              });
            },
          },
        },
        oas3: {
          wrapActions: {
            setSelectedServer: (setSelectedServer) => (url, namespace) => {
              const result = setSelectedServer(url, namespace);
              // Only the page-wide choice drives the banner (operations may have their own servers).
              if (!namespace) updateBanner(url);
              return result;
            },
          },
        },
      },
      wrapComponents: {
        // A visible mark on every operation that changes state.
        OperationSummaryPath: (Original, system) => (props) => {
          const op = props.operationProps;
          const mutating = op && isMutating(system, op.get('path'), op.get('method'));
          const original = system.React.createElement(Original, props);
          if (!mutating) return original;
          return system.React.createElement(
            system.React.Fragment,
            null,
            original,
            system.React.createElement(
              'span',
              { className: 'mutating-badge', title: 'x-mutating: changes state' },
              'changes state',
            ),
          );
        },
      },
    };
  }

  window.ui = SwaggerUIBundle({
    url: config.specUrl,
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [ProductionGuard],
    layout: 'BaseLayout',
    deepLinking: true,
    validatorUrl: null, // the default badge loads an image from a third-party validator
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false,
  });
  updateBanner('');
})();
