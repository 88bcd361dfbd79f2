/**
 * Prometheus metrics (prom-client).
 *
 * - One **process registry** per process: prom-client's default metrics (CPU, memory, event-loop lag,
 *   GC, handles), registered once however many apps a process builds (tests build many).
 * - One **app registry** per `createApp`: HTTP requests by method, route template and status; the OTP
 *   outcomes, counted where they happen (the auth service, through the `OtpMetrics` of `AuthDeps`); and
 *   the job counts of every queue given, read from Redis on each scrape.
 * - The **worker registry** (`workerMetrics()`): job outcomes counted by the worker process.
 *
 * The request middleware is cheap: one `hrtime` read and one shared `finish` listener per request (no
 * closure, no timer); labels are the route template (`req.route.path`, bounded), never the raw URL.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request, RequestHandler, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../../config/index.js';
import { safeEqualText } from './crypto.js';
import type { Logger } from './logger.js';
import { withTimeout } from './timeout.js';

/** The states `queue_jobs` reports for every queue. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
/** A scrape never waits longer than this for Redis; the queue gauges are left out when it does. */
const QUEUE_SCRAPE_TIMEOUT_MS = 2000;

const START = Symbol('metrics.start');

declare module 'express-serve-static-core' {
  interface Request {
    [START]?: bigint;
  }
}

let processRegistry: Registry | undefined;

/** Default process metrics, registered once per process. */
export function defaultProcessRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export type OtpChannel = 'sms' | 'email';
/** `otp_failed_total{reason}`: a refused verification. */
export const OTP_FAILURE_REASONS = ['invalid', 'not_found', 'rate_limited'] as const;
export type OtpFailureReason = (typeof OTP_FAILURE_REASONS)[number];

/** The OTP outcome counters, as the auth service reports to them (it knows nothing else of metrics). */
export interface OtpMetrics {
  sent(channel: OtpChannel): void;
  verified(channel: OtpChannel): void;
  failed(channel: OtpChannel, reason: OtpFailureReason): void;
}

/** The states `queue_jobs` reports for every queue. */
export type QueueState = (typeof QUEUE_STATES)[number];
/** What the `queue_jobs` gauge reads of a queue (a BullMQ `Queue`). */
export interface CountableQueue {
  getJobCounts(...states: QueueState[]): Promise<Partial<Record<string, number>>>;
}

export interface AppMetrics {
  /** The app's own metrics (HTTP, OTP, queues); `render()` adds the process's. */
  registry: Registry;
  middleware: RequestHandler;
  otp: OtpMetrics;
  render: () => Promise<string>;
  contentType: string;
}

export interface MetricsDeps {
  config: Config;
  /** The queues whose job counts `queue_jobs` reports, by name. */
  queues: Readonly<Record<string, CountableQueue>>;
  logger: Logger;
}

const perDeps = new WeakMap<object, AppMetrics>();

/**
 * The metrics of one app, created on first use for a given `deps` object (the same one `createApp`
 * hands to `httpMetrics` and to the `/metrics` route, so both see one registry).
 */
export function appMetrics(deps: MetricsDeps): AppMetrics {
  let m = perDeps.get(deps);
  if (!m) {
    m = createAppMetrics(deps);
    perDeps.set(deps, m);
  }
  return m;
}

/** The request middleware; a pass-through when metrics are off. Mount it before the routers. */
export function httpMetrics(deps: MetricsDeps): RequestHandler {
  if (!deps.config.metrics.enabled) return (_req, _res, next) => next();
  return appMetrics(deps).middleware;
}

/** The OTP outcome counters of the app of `deps`; undefined when metrics are off (nothing to count). */
export function otpMetrics(deps: MetricsDeps): OtpMetrics | undefined {
  return deps.config.metrics.enabled ? appMetrics(deps).otp : undefined;
}

function createAppMetrics(deps: MetricsDeps): AppMetrics {
  const registry = new Registry();
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from the request reaching the app to the end of its response, by method, route template and status',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const otpSent = new Counter({
    name: 'otp_sent_total',
    help: 'Codes sent (send-otp answered 201), by channel',
    labelNames: ['channel'],
    registers: [registry],
  });
  const otpVerified = new Counter({
    name: 'otp_verified_total',
    help: 'Codes verified (verify-otp answered 200), by channel',
    labelNames: ['channel'],
    registers: [registry],
  });
  const otpFailed = new Counter({
    name: 'otp_failed_total',
    help: 'Verifications refused: invalid (400 OTP_INVALID), not_found (404 OTP_NOT_FOUND: expired, used, dead), rate_limited (429)',
    labelNames: ['channel', 'reason'],
    registers: [registry],
  });
  for (const channel of ['sms', 'email']) {
    // Zero series exist from the start, so a rate() over them works before the first event.
    otpSent.inc({ channel }, 0);
    otpVerified.inc({ channel }, 0);
    for (const reason of OTP_FAILURE_REASONS) otpFailed.inc({ channel, reason }, 0);
  }

  const log = deps.logger.child({ component: 'metrics' });
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs per queue and state, read from Redis at scrape time',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const queues = Object.entries(deps.queues);
        const counts = await withTimeout(
          Promise.all(queues.map(([, q]) => q.getJobCounts(...QUEUE_STATES))),
          QUEUE_SCRAPE_TIMEOUT_MS,
          'queue counts timed out',
        );
        for (const [i, [queue]] of queues.entries()) {
          for (const state of QUEUE_STATES) this.set({ queue, state }, counts[i]![state] ?? 0);
        }
      } catch (err) {
        // Redis is down or slow: the series are absent from this scrape (an alert on absent() sees it).
        log.warn({ err: (err as Error).message }, 'queue counts unavailable');
      }
    },
  });

  /** Called with `this` = the response: one function for every request, no closure per request. */
  function onFinish(this: Response): void {
    const req = this.req;
    const started = req[START];
    if (started === undefined) return;
    const route = routeLabel(req);
    const status = this.statusCode;
    const labels = { method: req.method, route, status };
    requests.inc(labels);
    duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
  }

  const middleware: RequestHandler = (req, res, next) => {
    req[START] = process.hrtime.bigint();
    res.once('finish', onFinish);
    next();
  };

  const otp: OtpMetrics = {
    sent: (channel) => otpSent.inc({ channel }),
    verified: (channel) => otpVerified.inc({ channel }),
    failed: (channel, reason) => otpFailed.inc({ channel, reason }),
  };

  const processReg = defaultProcessRegistry();
  return {
    registry,
    middleware,
    otp,
    contentType: registry.contentType,
    render: async () => `${await processReg.metrics()}\n${await registry.metrics()}`,
  };
}

/**
 * The route template: `req.baseUrl` (a mount path, e.g. `/admin/queues`) + `req.route.path`. A request
 * answered by a mounted middleware without a route (static files) is `<mount path>/*`; anything else
 * (the 404 handler) is `unmatched`. Never the raw URL, so the label set stays bounded.
 */
function routeLabel(req: Request): string {
  const path: unknown = req.route?.path;
  if (path !== undefined) return req.baseUrl + String(path);
  return req.baseUrl ? `${req.baseUrl}/*` : 'unmatched';
}

/** True when `header` is `Bearer <token>`; compared in constant time (digests of equal length). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  return safeEqualText(header.slice(7).trim(), token);
}

// ------------------------------------------------------------------------------------------ worker

export interface WorkerMetrics {
  registry: Registry;
  completed: Counter<'queue'>;
  failed: Counter<'queue'>;
}

let worker: WorkerMetrics | undefined;

/** The worker's job outcome counters (one set per process), with a zero series for each of `queueNames`. */
export function workerMetrics(queueNames: readonly string[]): WorkerMetrics {
  if (!worker) {
    const registry = new Registry();
    const completed = new Counter({
      name: 'jobs_completed_total',
      help: 'Jobs this worker process completed, by queue',
      labelNames: ['queue'],
      registers: [registry],
    });
    const failed = new Counter({
      name: 'jobs_failed_total',
      help: 'Job attempts that failed in this worker process (each retry counts), by queue',
      labelNames: ['queue'],
      registers: [registry],
    });
    for (const queue of queueNames) {
      completed.inc({ queue }, 0);
      failed.inc({ queue }, 0);
    }
    worker = { registry, completed, failed };
  }
  return worker;
}

/**
 * The worker's `GET /metrics` on `WORKER_METRICS_PORT` (default: off; Heroku worker dynos take no
 * inbound traffic, so there this is for other hosts or a sidecar). The same bearer token as the web's.
 */
export async function startWorkerMetricsServer(
  config: Config,
  logger: Logger,
  { registry }: WorkerMetrics,
): Promise<Server | undefined> {
  const port = config.metrics.workerPort;
  if (port === undefined) return undefined;
  const processReg = defaultProcessRegistry();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (config.metrics.token !== undefined && !bearerMatches(req.headers.authorization, config.metrics.token)) {
      res
        .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' })
        .end('unauthorized\n');
      return;
    }
    Promise.all([processReg.metrics(), registry.metrics()]).then(
      ([p, w]) =>
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(`${p}\n${w}`),
      (err: unknown) => {
        logger.error({ err }, 'metrics failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('error\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  logger.info({ port: (server.address() as AddressInfo).port }, 'worker metrics listening');
  return server;
}
