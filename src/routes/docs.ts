/**
 * The API reference: `GET /openapi.json` (the OpenAPI document of `src/openapi/spec.ts`, with the
 * `servers` of `API_SERVERS`) and `GET /docs`, an interactive playground (Swagger UI from the
 * `swagger-ui-dist` package, served from this origin: no CDN) with a production guard (`public/docs/docs.js`).
 *
 * CSP: helmet's defaults apply (script-src 'self', no inline script; Swagger UI's inline styles are
 * allowed by helmet's `style-src 'unsafe-inline'`). The only change, on the `/docs` page alone, is
 * `connect-src`: besides 'self' it lists the origins of the configured servers, since "Try it out"
 * sends the request from the browser to the selected server. (That server must also allow the page's
 * origin in its `CORS_ORIGINS` when it is another origin.)
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Router, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import type { Config } from '../../config/index.js';
import { buildOpenApiSpec } from '../openapi/spec.js';
import { projectRoot } from '../lib/project-root.js';
import { defineRoute } from './define.js';

/** Our page and files are not fingerprinted: revalidated on every load, so a deploy takes effect at once. */
const REVALIDATE = 'no-cache';
/** Swagger UI changes only with package-lock.json. */
const VENDOR = 'public, max-age=86400';
/** A server whose description is this is Production (the playground warns before a mutating request). */
const PRODUCTION = /^prod(uction)?$/i;

export function docsRouter(config: Config): Router {
  const dir = path.join(projectRoot(), 'public', 'docs');
  // Resolved now: a missing dependency fails at boot, not on the first visit.
  const swaggerDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/absolute-path.js'));
  for (const f of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
    if (!fs.existsSync(path.join(swaggerDir, f)))
      throw new Error(`docs: ${f} not found in ${swaggerDir} (is swagger-ui-dist installed?)`);
  }

  const servers = config.docs.servers;
  const spec = JSON.stringify(
    buildOpenApiSpec({ servers: servers.map((s) => ({ ...s })), otpLength: config.otp.length }),
  );
  const pageConfig = {
    specUrl: '/openapi.json',
    productionUrls: servers.filter((s) => PRODUCTION.test(s.description)).map((s) => s.url),
    // Served by the production API itself: requests to this origin are production requests too.
    pageIsProduction: config.isProduction,
  };
  const page = fs
    .readFileSync(path.join(dir, 'index.html'), 'utf8')
    .replace('__DOCS_CONFIG__', JSON.stringify(pageConfig).replace(/</g, '\\u003c'));

  const serverOrigins = [...new Set(servers.map((s) => new URL(s.url).origin))];
  const pageCsp = helmet.contentSecurityPolicy({ directives: { connectSrc: ["'self'", ...serverOrigins] } });

  const router = Router();
  const sendFile =
    (file: string, cacheControl: string): RequestHandler =>
    (_req, res: Response) =>
      new Promise<void>((resolve, reject) => {
        res.sendFile(file, { headers: { 'Cache-Control': cacheControl } }, (err?: NodeJS.ErrnoException) => {
          // A client that went away mid-response is not an error.
          if (err && err.code !== 'ECONNABORTED' && err.syscall !== 'write') reject(err);
          else resolve();
        });
      });

  defineRoute(router, '/openapi.json', {
    get: [
      (_req, res) =>
        void res
          .status(200)
          .set({ 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': REVALIDATE })
          .send(spec),
    ],
  });
  defineRoute(router, '/docs', {
    get: [
      pageCsp,
      (_req, res) =>
        void res
          .status(200)
          .set({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': REVALIDATE })
          .send(page),
    ],
  });
  defineRoute(router, '/docs/docs.js', { get: [sendFile(path.join(dir, 'docs.js'), REVALIDATE)] });
  defineRoute(router, '/docs/docs.css', { get: [sendFile(path.join(dir, 'docs.css'), REVALIDATE)] });
  defineRoute(router, '/docs/vendor/swagger-ui-bundle.js', {
    get: [sendFile(path.join(swaggerDir, 'swagger-ui-bundle.js'), VENDOR)],
  });
  defineRoute(router, '/docs/vendor/swagger-ui.css', {
    get: [sendFile(path.join(swaggerDir, 'swagger-ui.css'), VENDOR)],
  });
  return router;
}
