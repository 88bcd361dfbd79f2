/**
 * The staff pages under /dashboard (`public/dashboard/`), both signing in with a
 * phone code: the marketers' dashboard (`/dashboard`, the analytics reports) and
 * the support page (`/dashboard/support`, the admin API; its sign-in and API
 * calls live in `session.js`, meant for both pages). No build step: the pages'
 * own files are served as they are, and Chart.js comes from its npm package.
 *
 * Helmet's default Content-Security-Policy applies (script-src 'self'), so the
 * pages have no inline script. Unknown files under /dashboard/ fall through to
 * the app's 404.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router, type Response } from 'express';
import { projectRoot } from '../lib/project-root.js';
import { defineRoute } from './define.js';

/**
 * The pages and their scripts and styles are not fingerprinted, so browsers revalidate them on every
 * load (a cheap 304 thanks to ETag / Last-Modified) and a deploy takes effect at once.
 */
const REVALIDATE = 'no-cache';
/** Chart.js changes only with package-lock.json; a day of caching is safe. */
const VENDOR = 'public, max-age=86400';

export function dashboardRouter(): Router {
  const dir = path.join(projectRoot(), 'public', 'dashboard');
  const indexHtml = path.join(dir, 'index.html');
  const supportHtml = path.join(dir, 'support.html');
  // `chart.js` resolves to dist/chart.cjs; the UMD bundle sits next to it (the package's exports map
  // does not list it, so it cannot be resolved by name). Resolved now: a missing dependency fails at boot.
  const chartJs = path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
  if (!fs.existsSync(chartJs)) throw new Error(`dashboard: ${chartJs} not found (is chart.js installed?)`);

  const router = Router();
  const sendFile = (file: string, cacheControl: string) => (_req: unknown, res: Response) =>
    new Promise<void>((resolve, reject) => {
      res.sendFile(file, { headers: { 'Cache-Control': cacheControl } }, (err?: NodeJS.ErrnoException) => {
        // A client that went away mid-response is not an error (Express's own default does the same).
        if (err && err.code !== 'ECONNABORTED' && err.syscall !== 'write') reject(err);
        else resolve();
      });
    });

  defineRoute(router, '/dashboard', { get: [sendFile(indexHtml, REVALIDATE)] });
  defineRoute(router, '/dashboard/support', { get: [sendFile(supportHtml, REVALIDATE)] });
  defineRoute(router, '/dashboard/vendor/chart.umd.min.js', { get: [sendFile(chartJs, VENDOR)] });
  router.use(
    '/dashboard',
    express.static(dir, {
      index: false,
      redirect: false,
      fallthrough: true, // not a file here: the app's 404 in the envelope
      dotfiles: 'ignore',
      cacheControl: false,
      setHeaders: (res) => res.setHeader('Cache-Control', REVALIDATE),
    }),
  );
  return router;
}
