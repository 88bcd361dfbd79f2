/**
 * The queue dashboard: Bull Board at `/admin/queues`, one BullMQ adapter per queue of `QUEUE_NAMES`
 * (counts, jobs by state with their data and errors).
 *
 * Read-only, but for one operator command: retrying failed jobs (one, or a queue's). Every other state
 * change Bull Board offers (add, clean, promote, pause/resume, empty, obliterate, remove, edit a job's
 * data, delay or priority, job schedulers, concurrency, rate limits) is refused with 403 in the envelope.
 * Bull Board's own `readOnlyMode` cannot express this: in 9.x it also turns retries off (and answers them
 * 405), so the rule is ours, an allowlist in front of the board; its adapters only hide the retry of
 * completed jobs. A state-changing request must also come from the dashboard's own page (`Origin` equal to
 * this origin, or `Sec-Fetch-Site: same-origin`): the browser sends the Basic credentials by itself, so
 * without this check any site the operator visits could make it retry jobs (CSRF).
 *
 * It is a browser page, so besides `Authorization: Bearer <access token with role admin>` it takes
 * HTTP Basic credentials from config (`QUEUE_DASHBOARD_USER` / `QUEUE_DASHBOARD_PASSWORD`, compared in
 * constant time): the browser asks for them once and sends them with the page's API calls. Without
 * valid credentials: 401 in the envelope with `WWW-Authenticate: Basic`. In production the dashboard is
 * mounted only when the Basic credentials are configured.
 *
 * Helmet's default CSP applies unchanged: Bull Board's scripts are files, its inline styles are allowed by
 * helmet's `style-src 'unsafe-inline'`; its page links a Google Fonts stylesheet, which is cut from the HTML
 * (the page falls back to system fonts, and no admin page loads anything from a third party).
 */
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { createBullBoard } from '@bull-board/api';
import { ExpressAdapter } from '@bull-board/express';
import { Router, type Express, type RequestHandler } from 'express';
import type { Config } from '../../config/index.js';
import { QUEUE_NAMES, type QueueName, type Queues } from '../jobs/queues.js';
import { safeEqualText } from '../lib/crypto.js';
import { forbidden, unauthorized } from '../lib/errors.js';
import { authenticate } from '../middleware/authenticate.js';
import { SessionGuard } from '../services/session-guard.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

const EXTERNAL_STYLESHEET = /<link[^>]+href="https:\/\/fonts\.googleapis\.com\/[^"]*"[^>]*>\s*/g;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The allowed state changes, relative to the mount: retry a queue's failed jobs, retry one job (if failed). */
const RETRY_FAILED = /^\/api\/queues\/[^/]+\/retry\/failed$/;
const RETRY_JOB = /^\/api\/queues\/([^/]+)\/([^/]+)\/retry$/;

/**
 * The page offers retry for failed jobs only. `allowCompletedRetries` is read by Bull Board's base adapter but
 * missing from `BullMQAdapter`'s constructor type, hence an object that is not a literal at the call.
 */
const ADAPTER_OPTIONS = { readOnlyMode: false, allowRetries: true, allowCompletedRetries: false };

const readOnlyRefusal = (what: string) =>
  forbidden({
    errorCode: 'QUEUE_DASHBOARD_READ_ONLY',
    messages: [`queue dashboard: ${what}; it is read-only but for retrying failed jobs`],
  });

export interface QueueDashboardDeps {
  config: Config;
  queues: Queues;
  /** Shares the app's session cache when given. */
  guard?: SessionGuard;
  clock?: () => Date;
}

export function queueDashboardRouter(deps: QueueDashboardDeps): Router {
  const router = Router();
  const { config } = deps;
  if (!config.queueDashboard.enabled) return router;

  const clock = deps.clock ?? (() => new Date());
  const guard = deps.guard ?? new SessionGuard(config.sessions.cacheTtlMs, clock);
  const bearerAdmin = authenticate({ config, guard, clock }, 'admin');
  const basic = config.queueDashboard.basic;
  const challenge = basic
    ? { 'WWW-Authenticate': 'Basic realm="Allmine queues", charset="UTF-8"' }
    : { 'WWW-Authenticate': 'Bearer realm="allmine"' };

  const auth: RequestHandler = async (req, res, next) => {
    const header = req.get('authorization') ?? '';
    if (/^Bearer /i.test(header)) {
      await bearerAdmin(req, res, next); // 401 / 403 in the envelope, or next()
      return;
    }
    if (basic && /^Basic /i.test(header)) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      // Both halves are always compared, so the time taken does not tell which one was wrong.
      const userOk = safeEqualText(colon >= 0 ? decoded.slice(0, colon) : decoded, basic.user);
      const passwordOk = safeEqualText(colon >= 0 ? decoded.slice(colon + 1) : '', basic.password);
      if (colon >= 0 && userOk && passwordOk) {
        next();
        return;
      }
      throw unauthorized({
        errorCode: 'CREDENTIALS_INVALID',
        messages: ['Authorization: wrong queue dashboard credentials'],
        headers: challenge,
      });
    }
    throw unauthorized({
      errorCode: 'CREDENTIALS_REQUIRED',
      messages: [
        basic
          ? 'Authorization: Basic credentials or a Bearer access token with role admin are required'
          : 'Authorization: a Bearer access token with role admin is required',
      ],
      headers: challenge,
    });
  };

  /** State changes come from the dashboard's own page only (see the top of this file). */
  const sameOrigin: RequestHandler = (req, _res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const origin = req.get('origin');
    if (
      req.get('sec-fetch-site') === 'same-origin' ||
      (origin !== undefined && origin === `${req.protocol}://${req.get('host')}`)
    )
      return next();
    throw forbidden({
      errorCode: 'CROSS_ORIGIN_REFUSED',
      messages: ['Origin: a state-changing request to the queue dashboard must come from its own page'],
    });
  };

  const readOnly: RequestHandler = async (req, _res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    if (req.method === 'PUT' && RETRY_FAILED.test(req.path)) return next();
    const retry = req.method === 'PUT' ? RETRY_JOB.exec(req.path) : null;
    if (retry) {
      const name = decodeURIComponent(retry[1]!);
      const queue = (QUEUE_NAMES as readonly string[]).includes(name) ? deps.queues[name as QueueName] : undefined;
      if (queue && (await queue.getJobState(decodeURIComponent(retry[2]!))) === 'failed') return next();
      throw readOnlyRefusal('only a failed job can be retried');
    }
    throw readOnlyRefusal(`${req.method} ${req.path} is not allowed`);
  };

  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: QUEUE_NAMES.map((name) => new BullMQAdapter(deps.queues[name], ADAPTER_OPTIONS)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Allmine queues' } },
  });
  const board = serverAdapter.getRouter() as Express;
  board.disable('x-powered-by'); // a mounted app has its own settings

  /** Authenticated pages and data are never cached; Bull Board's static files (fingerprinted) may be. */
  const headers: RequestHandler = (req, res, next) => {
    if (!req.path.startsWith('/static/')) res.setHeader('Cache-Control', 'no-store');
    // Bull Board renders its page with `res.render(view, params)`: render to a string, cut the
    // third-party stylesheet, send.
    const render = res.render.bind(res);
    res.render = ((view: string, options?: object) =>
      render(view, options ?? {}, (err: Error | null, html?: string) => {
        if (err) next(err);
        else res.type('html').send((html ?? '').replace(EXTERNAL_STYLESHEET, ''));
      })) as typeof res.render;
    next();
  };

  // Named on its own, whatever the allowlist above becomes: jobs come from the app, never from a form.
  router.all(`${QUEUE_DASHBOARD_PATH}/api/queues/:queueName/add`, auth, () => {
    throw readOnlyRefusal('adding jobs is not allowed');
  });
  router.use(QUEUE_DASHBOARD_PATH, auth, sameOrigin, readOnly, headers, board);
  return router;
}
