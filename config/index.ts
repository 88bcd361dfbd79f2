/**
 * The one place that reads the environment. `loadConfig()` parses every key
 * once, at boot, and throws a `ConfigError` naming every bad or missing key.
 * Development and test get safe local defaults; production gets none for
 * URLs and secrets. Those defaults are refused next to a MongoDB or Redis on
 * another host (see `loadConfig`). Every key is documented in `.env.example`
 * and docs/operations.md#configuration.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

export const NODE_ENVS = ['development', 'test', 'production'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** `redis://` or `rediss://` URLs, comma-separated (several only for a cluster's seed nodes). */
const redisUrls = z.string().transform((v, ctx) => {
  const urls = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (urls.length === 0 || urls.some((u) => !/^rediss?:\/\/[^/\s]/.test(u) || !URL.canParse(u))) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a redis:// or rediss:// URL (or, for a cluster, a comma-separated list of them)',
    });
    return z.NEVER;
  }
  if (new Set(urls.map((u) => new URL(u).protocol)).size > 1) {
    ctx.addIssue({ code: 'custom', message: 'mixes redis:// and rediss:// URLs' });
    return z.NEVER;
  }
  return urls;
});

/**
 * The hosts of a `mongodb://`, `mongodb+srv://` or `redis(s)://` URL (several for a replica set); none when
 * the value is not such a URL (the schema reports that).
 */
function hostsOf(url: string): string[] {
  const m = /^(?:mongodb(?:\+srv)?|rediss?):\/\/([^/?#]*)/i.exec(url.trim());
  if (!m) return [];
  const authority = m[1]!.slice(m[1]!.lastIndexOf('@') + 1);
  return authority.split(',').map((h) => {
    const host = h.trim().toLowerCase();
    if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
    return host.replace(/:\d*$/, '');
  });
}

/** localhost, 127.0.0.0/8, ::1, or a Unix socket path (`%2Ftmp%2Fmongodb.sock`). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host) || host.startsWith('%2f');
}

/**
 * The service keys (`MONGODB_URI`, `REDIS_URL`) set to a host that is not this machine. Development and test
 * defaults (code exposure, the console SMS provider, development secrets) must never meet shared or production
 * data by accident, e.g. a shell that has production's `MONGODB_URI` but no `NODE_ENV`.
 */
function remoteServiceKeys(source: Env): string[] {
  const urls = {
    MONGODB_URI: source.MONGODB_URI ? [source.MONGODB_URI] : [],
    REDIS_URL: source.REDIS_URL?.split(',') ?? [], // a cluster's seed nodes
  };
  return Object.entries(urls)
    .filter(([, list]) => list.flatMap(hostsOf).some((h) => h !== '' && !isLoopback(h)))
    .map(([key]) => key);
}

/** The names Express (proxy-addr) accepts in a `trust proxy` list, and the subnets each stands for. */
const TRUST_PROXY_NAMES: Record<string, string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};
/** The largest hop count production takes: more proxies than any real chain has lets a client add its own. */
export const MAX_TRUST_PROXY_HOPS = 10;

/** An IPv4 or IPv6 address as a 128-bit number, IPv4 as its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`). */
function ipToBigInt(ip: string): bigint | null {
  const kind = isIP(ip);
  if (kind === 4) return (0xffffn << 32n) + ip.split('.').reduce((n, b) => (n << 8n) + BigInt(Number(b)), 0n);
  if (kind !== 6 || ip.includes('%')) return null; // no zone ids
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipToBigInt(v4[1]!)! & 0xffffffffn;
    text = `${text.slice(0, v4.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g, 16)), 0n);
}

/**
 * The range of 128-bit addresses (IPv4 mapped as in `ipToBigInt`) one `trust proxy` entry covers, or null when
 * Express could not read it: an address, `address/prefix-length` or `address/netmask` (IPv4).
 */
function subnetRange(entry: string): [bigint, bigint] | null {
  const [ip, bits, ...rest] = entry.split('/');
  if (rest.length > 0 || ip === undefined) return null;
  const base = ipToBigInt(ip);
  if (base === null) return null;
  const v4 = isIP(ip) === 4;
  let prefix: number;
  if (bits === undefined) prefix = v4 ? 32 : 128;
  else if (/^\d{1,3}$/.test(bits)) prefix = Number(bits);
  else if (v4 && isIP(bits) === 4) {
    const mask = ipToBigInt(bits)! & 0xffffffffn;
    const ones = mask.toString(2).padStart(32, '0');
    if (!/^1*0*$/.test(ones)) return null; // not a netmask
    prefix = ones.indexOf('0') === -1 ? 32 : ones.indexOf('0');
  } else return null;
  if (prefix > (v4 ? 32 : 128)) return null;
  const size = 1n << BigInt((v4 ? 32 : 128) - prefix);
  const start = base - (base % size);
  return [start, start + size - 1n];
}

/** Whether the ranges together cover [from, to]. */
function covers(ranges: [bigint, bigint][], from: bigint, to: bigint): boolean {
  let next = from;
  for (const [start, end] of [...ranges].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    if (start > next) break;
    if (end >= next) next = end + 1n;
    if (next > to) return true;
  }
  return next > to;
}

const ALL_IPV4: [bigint, bigint] = [0xffffn << 32n, (0xffffn << 32n) + 0xffffffffn];
const ALL_IPV6: [bigint, bigint] = [0n, (1n << 128n) - 1n];

/**
 * Whether a `trust proxy` address list trusts every client address, IPv4 or IPv6 (`0.0.0.0/0`,
 * `0.0.0.0/1,128.0.0.0/1`, `::/0`, `::ffff:0:0/96`, …): then any client names its own `req.ip`.
 */
export function trustsEveryAddress(list: string[]): boolean {
  const ranges = list.flatMap((e) => (TRUST_PROXY_NAMES[e] ?? [e]).map(subnetRange)).filter((r) => r !== null);
  return covers(ranges, ...ALL_IPV4) || covers(ranges, ...ALL_IPV6);
}

/**
 * Express `trust proxy`: `true`/`false`, a hop count (Heroku's router is 1 hop),
 * or a comma-separated list of addresses/subnets (`address`, `address/prefix-length`, `address/netmask`,
 * `loopback`, `linklocal`, `uniquelocal`). Anything else (`True`, `yes`, `*`, a typo in an address) is a
 * config error here, not a crash in `app.set('trust proxy')`. Production refuses `true`, lists that trust
 * every address, and hop counts above `MAX_TRUST_PROXY_HOPS` (see `superRefine`).
 */
const trustProxy = z.string().transform((raw, ctx): boolean | number | string[] => {
  const v = raw.trim();
  if (v === 'true') return true;
  if (v === 'false' || v === '') return false;
  if (/^\d+$/.test(v)) return Number(v);
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.filter((e) => !(e in TRUST_PROXY_NAMES) && subnetRange(e) === null);
  // A prefix of 0 (`0.0.0.0/0`, `::/0`) trusts every address, and Express cannot read it either.
  const everyone = list.filter((e) => e === '*' || /\/(?:0+|0\.0\.0\.0)$/.test(e));
  if (everyone.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `${everyone.map((e) => JSON.stringify(e)).join(', ')} would trust every address (any client could pick its own IP): give false, a hop count (Heroku: 1) or the proxies' own addresses/subnets`,
    });
    return z.NEVER;
  }
  if (bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `cannot read ${bad.map((e) => JSON.stringify(e)).join(', ')}: give false, a hop count (Heroku: 1) or a comma-separated list of IP addresses/subnets (address, address/bits, loopback, linklocal, uniquelocal)${/^(true|false)$/i.test(v) ? '; true and false are lower case' : ''}`,
    });
    return z.NEVER;
  }
  return list;
});

/**
 * `Description=url` pairs, comma-separated (`Development=http://localhost:3000,Production=https://api.allmine.app`):
 * the `servers` of the OpenAPI document and of the `/docs` playground. The first `=` splits a pair.
 */
const apiServers = z.string().transform((v, ctx) => {
  const out: { description: string; url: string }[] = [];
  for (const pair of v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = pair.indexOf('=');
    const description = eq > 0 ? pair.slice(0, eq).trim() : '';
    const url =
      eq > 0
        ? pair
            .slice(eq + 1)
            .trim()
            .replace(/\/+$/, '')
        : '';
    if (!description || !/^https?:\/\/[^/\s]+/.test(url) || !URL.canParse(url)) {
      ctx.addIssue({ code: 'custom', message: `"${pair}" is not Description=http(s)://host[/path]` });
      return z.NEVER;
    }
    out.push({ description, url });
  }
  return out;
});

// Dev/test-only stand-ins, never accepted in production (see `refine` below).
const DEV_JWT_SECRET = 'development-only-jwt-secret-not-for-production-use';
const DEV_OTP_SECRET = 'development-only-otp-hmac-secret-not-for-production';

function schemaFor(nodeEnv: NodeEnv) {
  const prod = nodeEnv === 'production';
  const dbName = nodeEnv === 'test' ? 'allmine_test' : 'allmine_dev';
  // In production a missing key stays missing so zod names it.
  const devDefault = <T extends z.ZodType>(s: T, value: string) => (prod ? s : s.prefault(value as never));
  const secret = (name: string) =>
    z
      .string({ error: `${name} is required` })
      .refine((v) => Buffer.byteLength(v, 'utf8') >= 32, `${name} must be at least 32 bytes`);

  return z
    .object({
      NODE_ENV: z.enum(NODE_ENVS),
      PORT: int(0, 65535).default(3000),
      LOG_LEVEL: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default(nodeEnv === 'test' ? 'silent' : 'info'),
      MONGODB_URI: devDefault(
        z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URI'),
        `mongodb://127.0.0.1:27017/${dbName}`,
      ),
      /**
       * A MongoDB operation that gets no answer for this long fails (the request answers 503) instead of
       * hanging: a server that stops answering without closing its connections is caught too.
       */
      MONGODB_SOCKET_TIMEOUT_MS: int(1000, 600_000).default(10_000),
      /**
       * Connections one process may open to MongoDB. Below the operations a process has in flight, operations
       * queue for a connection inside the driver, which costs the web CPU on every login (measured: 0.3 ms per
       * login at 32 concurrent logins with 20 connections, against 100, the driver's own default).
       */
      MONGODB_MAX_POOL_SIZE: int(1, 1000).default(100),
      /** One URL; with REDIS_CLUSTER=true, one or more seed nodes of the cluster, comma-separated. */
      REDIS_URL: devDefault(redisUrls, 'redis://127.0.0.1:6379'),
      /** `true`: REDIS_URL names nodes of a Redis Cluster; the client discovers the rest and follows MOVED/ASK. */
      REDIS_CLUSTER: bool.default(false),
      /** Heroku Redis presents a self-signed certificate on rediss:// URLs. */
      REDIS_TLS_REJECT_UNAUTHORIZED: bool.default(true),
      /**
       * Development/test with `MONGODB_URI` or `REDIS_URL` on another host: refused unless this is `true` and
       * `NODE_ENV` is set explicitly (see `loadConfig`). No effect in production.
       */
      ALLOW_REMOTE_DEV_SERVICES: bool.default(false),
      /** BullMQ key prefix; braces make every queue key hash to one Redis Cluster slot. */
      QUEUE_PREFIX: z.string().min(1).default('{allmine}'),
      JWT_SECRET: devDefault(secret('JWT_SECRET'), DEV_JWT_SECRET).refine(
        (v) => !prod || v !== DEV_JWT_SECRET,
        'JWT_SECRET must not be the development default',
      ),
      JWT_ISSUER: z.string().min(1).default('allmine-auth'),
      JWT_AUDIENCE: z.string().min(1).default('allmine-app'),
      OTP_HMAC_SECRET: devDefault(secret('OTP_HMAC_SECRET'), DEV_OTP_SECRET).refine(
        (v) => !prod || v !== DEV_OTP_SECRET,
        'OTP_HMAC_SECRET must not be the development default',
      ),
      CORS_ORIGINS: list.default([]),
      TRUST_PROXY: trustProxy.default(false),
      BODY_LIMIT_BYTES: int(1024, 10 * 1024 * 1024).default(16 * 1024),
      /** The time zone of the reports when a request gives no `tz` (an IANA name). */
      ANALYTICS_DEFAULT_TZ: z
        .string()
        .default('UTC')
        .refine((v) => {
          try {
            new Intl.DateTimeFormat('en', { timeZone: v });
            return true;
          } catch {
            return false;
          }
        }, 'must be an IANA time zone such as UTC or Europe/Istanbul'),
      /** The largest CSV spend upload (PUT /api/v1/analytics/spend); a JSON one is held to BODY_LIMIT_BYTES. */
      ANALYTICS_SPEND_MAX_BYTES: int(1024, 10 * 1024 * 1024).default(1024 * 1024),
      /** Hard deadline for a graceful shutdown; Heroku kills at 30 s. */
      SHUTDOWN_TIMEOUT_MS: int(1000, 28_000).default(20_000),
      WORKER_CONCURRENCY: int(1, 256).default(10),
      READINESS_TIMEOUT_MS: int(50, 10_000).default(1500),

      ACCESS_TOKEN_TTL_SECONDS: int(60, 86_400).default(3600),
      REFRESH_TOKEN_TTL_SECONDS: int(3600, 365 * 86_400).default(2_592_000),

      /** Puts the code in the send-otp response. Never allowed in production. */
      OTP_EXPOSE_CODE: bool.default(!prod).refine((v) => !(prod && v), 'OTP_EXPOSE_CODE must be off in production'),
      OTP_LENGTH: int(4, 8).default(4),
      OTP_TTL_SECONDS: int(30, 3600).default(180),
      OTP_RESEND_COOLDOWN_SECONDS: int(0, 3600).default(60),
      OTP_MAX_ATTEMPTS: int(1, 20).default(5),
      OTP_SEND_PER_NUMBER_HOUR: int(1).default(5),
      OTP_SEND_PER_NUMBER_DAY: int(1).default(10),
      OTP_SEND_PER_IP_HOUR: int(1).default(20),
      /** Budget of codes sent per country calling code per hour (SMS pumping guard). */
      OTP_SEND_PER_COUNTRY_HOUR: int(1).default(2000),
      OTP_VERIFY_PER_NUMBER_HOUR: int(1).default(10),
      OTP_VERIFY_PER_IP_HOUR: int(1).default(60),
      /** `+<countryCode><nationalNumber>=<code>` pairs, comma-separated (app-store review, QA). */
      OTP_TEST_NUMBERS: z
        .string()
        .transform((v, ctx) => {
          const pairs = v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          const out: Record<string, string> = {};
          for (const p of pairs) {
            const m = /^\+(\d{4,15})=(\d{4,8})$/.exec(p);
            if (!m) {
              ctx.addIssue({ code: 'custom', message: `"${p}" is not +<digits>=<code>` });
              return z.NEVER;
            }
            out[`+${m[1]}`] = m[2]!;
          }
          return out;
        })
        .default({}),
      OTP_TEST_NUMBERS_IN_PRODUCTION: bool.default(false),

      SMS_PROVIDER: z.enum(['console', 'twilio', 'netgsm']).default(prod ? ('twilio' as const) : ('console' as const)),
      SMS_TIMEOUT_MS: int(100, 30_000).default(5000),
      TWILIO_ACCOUNT_SID: z
        .string()
        .regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits')
        .optional(),
      TWILIO_AUTH_TOKEN: z.string().min(16).optional(),
      TWILIO_FROM: z.string().min(1).optional(),
      TWILIO_MESSAGING_SERVICE_SID: z
        .string()
        .regex(/^MG[0-9a-fA-F]{32}$/)
        .optional(),
      TWILIO_BASE_URL: z.url().default('https://api.twilio.com'),
      NETGSM_USERCODE: z.string().min(1).optional(),
      NETGSM_PASSWORD: z.string().min(1).optional(),
      NETGSM_HEADER: z.string().min(1).optional(),
      NETGSM_BASE_URL: z.url().default('https://api.netgsm.com.tr'),

      /** `json`: nodemailer's JSON transport, nothing leaves the process (development, test). */
      MAIL_TRANSPORT: z.enum(['json', 'smtp']).default(prod ? ('smtp' as const) : ('json' as const)),
      /** `smtp://user:pass@host:587` or `smtps://…:465`. */
      SMTP_URL: z
        .string()
        .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
        .optional(),
      MAIL_FROM: z.string().min(3).default('Allmine <no-reply@allmine.app>'),
      MAIL_TIMEOUT_MS: int(100, 60_000).default(10_000),

      /** Concurrent refreshes with one token within this window all succeed; later reuse is theft. */
      REFRESH_REUSE_GRACE_SECONDS: int(0, 300).default(10),
      /** How long a web dyno trusts its cached view of a session (revocation takes effect within it). */
      SESSION_CACHE_TTL_MS: int(0, 5000).default(3000),

      /** Current policy versions a registration must accept (docs/api.md#complete-registration). */
      PRIVACY_POLICY_VERSION: z.string().min(1).default('1.2.0'),
      TERMS_OF_USE_VERSION: z.string().min(1).default('1.1.0'),
      CONSENT_FORM_VERSION: z.string().min(1).default('1.0.0'),
      USERNAME_CHANGE_INTERVAL_DAYS: int(0, 365).default(30),
      ACCOUNT_DELETION_GRACE_DAYS: int(0, 365).default(30),
      /** Feature flag: `POST /users/me/account-deletion/finalize-now` (403 when off). */
      ACCOUNT_DELETION_FINALIZE_NOW: bool.default(false),
      /** How often the worker looks for deletion requests that are due. */
      ACCOUNT_DELETION_SWEEP_EVERY_MS: int(1000, 24 * 3600 * 1000).default(60_000),
      /** How long an audit event is kept (`audit_events`); a change applies to events recorded from then on. */
      AUDIT_RETENTION_DAYS: int(1, 3650).default(180),

      /**
       * How often the worker deletes expired documents (codes, refresh-token uses, undelivered outbox
       * events past their week, ended sessions): what MongoDB's TTL indexes do, for servers that do not
       * (the embedded one), and a bound on every collection of the login path either way.
       */
      EXPIRY_SWEEP_EVERY_MS: int(1000, 24 * 3600 * 1000).default(60_000),

      /** How often the worker relays outbox events that the web could not enqueue itself. */
      OUTBOX_RELAY_EVERY_MS: int(200, 3600 * 1000).default(5000),
      /** An undelivered outbox event older than this is relayed (younger ones are still on their fast path). */
      OUTBOX_RELAY_AFTER_MS: int(0, 3600 * 1000).default(10_000),
      /** BullMQ: a job whose worker died is retried once its lock (this long) has expired. */
      WORKER_LOCK_DURATION_MS: int(1000, 600_000).default(30_000),
      WORKER_STALLED_INTERVAL_MS: int(500, 600_000).default(30_000),

      /** `servers` of `/openapi.json` and `/docs`; default (development, test) `Development=http://localhost:<PORT>`. */
      API_SERVERS: apiServers.optional(),
      /** `GET /metrics` (Prometheus); on by default outside production. */
      METRICS_ENABLED: bool.default(!prod),
      /** Bearer token for `/metrics` (and the worker's metrics port); required in production when metrics are on. */
      METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
      /** The worker serves its own `/metrics` (job outcome counters, process metrics) on this port; off when unset. */
      WORKER_METRICS_PORT: int(0, 65535).optional(),
      /** HTTP Basic credentials for the queue dashboard (`/admin/queues`); required (both) in production to enable it. */
      QUEUE_DASHBOARD_USER: z
        .string()
        .min(1)
        .regex(/^[^:]+$/, 'must not contain ":"')
        .optional(),
      QUEUE_DASHBOARD_PASSWORD: z
        .string()
        .min(12, 'QUEUE_DASHBOARD_PASSWORD must be at least 12 characters')
        .optional(),
    })
    .superRefine((e, ctx) => {
      if (!e.REDIS_CLUSTER && e.REDIS_URL.length > 1) {
        ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'several URLs need REDIS_CLUSTER=true' });
      }
      if (e.REDIS_CLUSTER && e.REDIS_URL.some((u) => !['', '/', '/0'].includes(new URL(u).pathname))) {
        ctx.addIssue({
          code: 'custom',
          path: ['REDIS_URL'],
          message: 'a Redis Cluster has only database 0; drop the /<db> path',
        });
      }
      // BullMQ runs multi-key Lua scripts over a queue's keys: in a cluster they must share one hash slot.
      if (e.REDIS_CLUSTER && !/\{[^{}]+\}/.test(e.QUEUE_PREFIX)) {
        ctx.addIssue({
          code: 'custom',
          path: ['QUEUE_PREFIX'],
          message: 'must contain a {hash tag} when REDIS_CLUSTER=true (e.g. {allmine})',
        });
      }
      const need = (key: keyof typeof e, why: string) => {
        if (e[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `is required ${why}` });
      };
      if (e.SMS_PROVIDER === 'twilio') {
        need('TWILIO_ACCOUNT_SID', 'when SMS_PROVIDER=twilio');
        need('TWILIO_AUTH_TOKEN', 'when SMS_PROVIDER=twilio');
        if (!e.TWILIO_FROM && !e.TWILIO_MESSAGING_SERVICE_SID)
          need('TWILIO_FROM', '(or TWILIO_MESSAGING_SERVICE_SID) when SMS_PROVIDER=twilio');
      }
      if (e.SMS_PROVIDER === 'netgsm') {
        need('NETGSM_USERCODE', 'when SMS_PROVIDER=netgsm');
        need('NETGSM_PASSWORD', 'when SMS_PROVIDER=netgsm');
        need('NETGSM_HEADER', 'when SMS_PROVIDER=netgsm');
      }
      if (e.MAIL_TRANSPORT === 'smtp') need('SMTP_URL', 'when MAIL_TRANSPORT=smtp');
      // Codes must not cross the network in clear: implicit TLS, or STARTTLS made mandatory.
      if (prod && e.SMTP_URL?.startsWith('smtp://') && !/[?&]requireTLS=true\b/.test(e.SMTP_URL)) {
        ctx.addIssue({
          code: 'custom',
          path: ['SMTP_URL'],
          message: 'use smtps:// or add ?requireTLS=true in production',
        });
      }
      // `true` trusts every X-Forwarded-For hop, so a client names its own `req.ip`, and with it its per-IP limits.
      // So do a list that covers every address, and a hop count longer than the real chain of proxies.
      if (prod && e.TRUST_PROXY === true) {
        ctx.addIssue({
          code: 'custom',
          path: ['TRUST_PROXY'],
          message:
            "true is refused in production: it lets clients pick their own IP; give the hop count (Heroku: 1) or the proxies' addresses/subnets",
        });
      }
      if (prod && Array.isArray(e.TRUST_PROXY) && trustsEveryAddress(e.TRUST_PROXY)) {
        ctx.addIssue({
          code: 'custom',
          path: ['TRUST_PROXY'],
          message:
            "a list that trusts every address is refused in production: it lets clients pick their own IP; give the hop count (Heroku: 1) or the proxies' own addresses/subnets",
        });
      }
      if (prod && typeof e.TRUST_PROXY === 'number' && e.TRUST_PROXY > MAX_TRUST_PROXY_HOPS) {
        ctx.addIssue({
          code: 'custom',
          path: ['TRUST_PROXY'],
          message: `a hop count above ${MAX_TRUST_PROXY_HOPS} is refused in production: more hops than the real chain of proxies lets clients pick their own IP; give the number of proxies in front of the app (Heroku: 1)`,
        });
      }
      if (prod && e.MAIL_TRANSPORT === 'json') {
        ctx.addIssue({
          code: 'custom',
          path: ['MAIL_TRANSPORT'],
          message: 'json sends no mail; not allowed in production',
        });
      }
      if (prod && e.SMS_PROVIDER === 'console') {
        ctx.addIssue({
          code: 'custom',
          path: ['SMS_PROVIDER'],
          message: 'console sends no SMS; not allowed in production',
        });
      }
      if (prod && (e.METRICS_ENABLED || e.WORKER_METRICS_PORT !== undefined)) {
        need('METRICS_TOKEN', 'in production when metrics are on (METRICS_ENABLED or WORKER_METRICS_PORT)');
        if (e.METRICS_TOKEN !== undefined && Buffer.byteLength(e.METRICS_TOKEN, 'utf8') < 32) {
          ctx.addIssue({ code: 'custom', path: ['METRICS_TOKEN'], message: 'must be at least 32 bytes in production' });
        }
      }
      if ((e.QUEUE_DASHBOARD_USER === undefined) !== (e.QUEUE_DASHBOARD_PASSWORD === undefined)) {
        const missing = e.QUEUE_DASHBOARD_USER === undefined ? 'QUEUE_DASHBOARD_USER' : 'QUEUE_DASHBOARD_PASSWORD';
        ctx.addIssue({
          code: 'custom',
          path: [missing],
          message: 'QUEUE_DASHBOARD_USER and QUEUE_DASHBOARD_PASSWORD go together',
        });
      }
      if (prod && e.QUEUE_DASHBOARD_PASSWORD !== undefined && e.QUEUE_DASHBOARD_PASSWORD.length < 20) {
        ctx.addIssue({
          code: 'custom',
          path: ['QUEUE_DASHBOARD_PASSWORD'],
          message: 'must be at least 20 characters in production',
        });
      }
      for (const [number, code] of Object.entries(e.OTP_TEST_NUMBERS)) {
        if (code.length !== e.OTP_LENGTH) {
          ctx.addIssue({
            code: 'custom',
            path: ['OTP_TEST_NUMBERS'],
            message: `code of ${number} must have OTP_LENGTH (${e.OTP_LENGTH}) digits`,
          });
        }
      }
      if (prod && Object.keys(e.OTP_TEST_NUMBERS).length > 0 && !e.OTP_TEST_NUMBERS_IN_PRODUCTION) {
        ctx.addIssue({
          code: 'custom',
          path: ['OTP_TEST_NUMBERS'],
          message: 'test numbers are refused in production unless OTP_TEST_NUMBERS_IN_PRODUCTION=true',
        });
      }
    });
}

/** Every key the schema reads (documented in `.env.example`; a test keeps the two in step). */
export function configKeys(): string[] {
  return Object.keys(schemaFor('development').shape);
}

export interface MailConfig {
  transport: 'json' | 'smtp';
  smtpUrl?: string;
  from: string;
  timeoutMs: number;
}

export interface ApiServer {
  description: string;
  url: string;
}

export type SmsProviderName = 'console' | 'twilio' | 'netgsm';

export interface SmsConfig {
  provider: SmsProviderName;
  timeoutMs: number;
  twilio: { accountSid?: string; authToken?: string; from?: string; messagingServiceSid?: string; baseUrl: string };
  netgsm: { usercode?: string; password?: string; header?: string; baseUrl: string };
}

export type Config = Readonly<{
  nodeEnv: NodeEnv;
  isProduction: boolean;
  port: number;
  logLevel: string;
  mongodbUri: string;
  mongodbSocketTimeoutMs: number;
  mongodbMaxPoolSize: number;
  /** `url` is the first of `urls`; `cluster`: `urls` are seed nodes of a Redis Cluster. */
  redis: { url: string; urls: string[]; cluster: boolean; tlsRejectUnauthorized: boolean; queuePrefix: string };
  jwt: { secret: string; issuer: string; audience: string };
  http: { corsOrigins: string[]; trustProxy: boolean | number | string[]; bodyLimitBytes: number };
  analytics: { defaultTz: string; spendMaxBytes: number };
  shutdownTimeoutMs: number;
  workerConcurrency: number;
  readinessTimeoutMs: number;
  tokens: { accessTtlSeconds: number; refreshTtlSeconds: number };
  otp: {
    hmacSecret: string;
    exposeCode: boolean;
    length: number;
    ttlSeconds: number;
    resendCooldownSeconds: number;
    maxAttempts: number;
    testNumbers: Readonly<Record<string, string>>;
  };
  limits: {
    sendPerNumberHour: number;
    sendPerNumberDay: number;
    sendPerIpHour: number;
    sendPerCountryHour: number;
    verifyPerNumberHour: number;
    verifyPerIpHour: number;
  };
  sms: SmsConfig;
  mail: MailConfig;
  sessions: { refreshReuseGraceSeconds: number; cacheTtlMs: number };
  policies: { privacyPolicyVersion: string; termsOfUseVersion: string; consentFormVersion: string };
  accounts: {
    usernameChangeIntervalDays: number;
    deletionGraceDays: number;
    finalizeNowEnabled: boolean;
    deletionSweepEveryMs: number;
  };
  outbox: { relayEveryMs: number; relayAfterMs: number };
  audit: { retentionDays: number };
  expirySweepEveryMs: number;
  worker: { lockDurationMs: number; stalledIntervalMs: number };
  /** The OpenAPI document's `servers` (and the playground's server list). */
  docs: { servers: ApiServer[] };
  /** `token` unset: `/metrics` is open (development and test only; production requires it). */
  metrics: { enabled: boolean; token?: string; workerPort?: number };
  /** `enabled`: `/admin/queues` is mounted (always outside production; in production only with Basic credentials). */
  queueDashboard: { enabled: boolean; basic?: { user: string; password: string } };
}>;

/**
 * Parses `env` (default: `process.env`) into a typed, frozen config.
 * `overrides` are applied on top (tests use it); unknown keys are ignored.
 * @throws ConfigError listing every problem at once.
 */
export function loadConfig(env: Env = process.env, overrides: Env = {}): Config {
  const source: Env = { ...env, ...overrides };
  // Empty strings count as unset, as they do on most PaaS dashboards.
  for (const [k, v] of Object.entries(source)) if (v === '') delete source[k];

  const nodeEnv = (source.NODE_ENV ?? 'development') as NodeEnv;
  if (!NODE_ENVS.includes(nodeEnv)) {
    throw new ConfigError([`NODE_ENV: must be one of ${NODE_ENVS.join(', ')} (got "${source.NODE_ENV}")`]);
  }
  const problems: string[] = [];
  const remote = nodeEnv === 'production' ? [] : remoteServiceKeys(source);
  // The opt-out counts only with NODE_ENV set on purpose: an unset NODE_ENV next to a remote service is the
  // mistake this guards against (a production shell without NODE_ENV).
  const optedOut =
    source.NODE_ENV !== undefined && bool.safeParse(source.ALLOW_REMOTE_DEV_SERVICES ?? 'false').data === true;
  if (remote.length > 0 && !optedOut) {
    const keys = `${remote.join(', ')} ${remote.length > 1 ? 'point to non-local hosts' : 'points to a non-local host'}`;
    problems.push(
      source.NODE_ENV === undefined
        ? `NODE_ENV: is not set, but ${keys}; set NODE_ENV=production (or NODE_ENV=development with ALLOW_REMOTE_DEV_SERVICES=true to develop against remote services)`
        : `NODE_ENV: is ${nodeEnv}, but ${keys}; set NODE_ENV=production, or ALLOW_REMOTE_DEV_SERVICES=true to ${nodeEnv === 'test' ? 'test' : 'develop'} against remote services`,
    );
  }
  const parsed = schemaFor(nodeEnv).safeParse({ ...source, NODE_ENV: nodeEnv });
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.map((i) => {
        const key = i.path.join('.');
        const msg = i.code === 'invalid_type' && i.input === undefined ? 'is required' : i.message;
        return `${key}: ${msg}`;
      }),
    );
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return deepFreeze({
    nodeEnv,
    isProduction: nodeEnv === 'production',
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    mongodbUri: e.MONGODB_URI,
    mongodbSocketTimeoutMs: e.MONGODB_SOCKET_TIMEOUT_MS,
    mongodbMaxPoolSize: e.MONGODB_MAX_POOL_SIZE,
    redis: {
      url: e.REDIS_URL[0]!,
      urls: e.REDIS_URL,
      cluster: e.REDIS_CLUSTER,
      tlsRejectUnauthorized: e.REDIS_TLS_REJECT_UNAUTHORIZED,
      queuePrefix: e.QUEUE_PREFIX,
    },
    jwt: { secret: e.JWT_SECRET, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    http: { corsOrigins: e.CORS_ORIGINS, trustProxy: e.TRUST_PROXY, bodyLimitBytes: e.BODY_LIMIT_BYTES },
    analytics: { defaultTz: e.ANALYTICS_DEFAULT_TZ, spendMaxBytes: e.ANALYTICS_SPEND_MAX_BYTES },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    readinessTimeoutMs: e.READINESS_TIMEOUT_MS,
    tokens: { accessTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS, refreshTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS },
    otp: {
      hmacSecret: e.OTP_HMAC_SECRET,
      exposeCode: e.OTP_EXPOSE_CODE,
      length: e.OTP_LENGTH,
      ttlSeconds: e.OTP_TTL_SECONDS,
      resendCooldownSeconds: e.OTP_RESEND_COOLDOWN_SECONDS,
      maxAttempts: e.OTP_MAX_ATTEMPTS,
      testNumbers: e.OTP_TEST_NUMBERS,
    },
    limits: {
      sendPerNumberHour: e.OTP_SEND_PER_NUMBER_HOUR,
      sendPerNumberDay: e.OTP_SEND_PER_NUMBER_DAY,
      sendPerIpHour: e.OTP_SEND_PER_IP_HOUR,
      sendPerCountryHour: e.OTP_SEND_PER_COUNTRY_HOUR,
      verifyPerNumberHour: e.OTP_VERIFY_PER_NUMBER_HOUR,
      verifyPerIpHour: e.OTP_VERIFY_PER_IP_HOUR,
    },
    sms: {
      provider: e.SMS_PROVIDER,
      timeoutMs: e.SMS_TIMEOUT_MS,
      twilio: {
        accountSid: e.TWILIO_ACCOUNT_SID,
        authToken: e.TWILIO_AUTH_TOKEN,
        from: e.TWILIO_FROM,
        messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID,
        baseUrl: e.TWILIO_BASE_URL,
      },
      netgsm: {
        usercode: e.NETGSM_USERCODE,
        password: e.NETGSM_PASSWORD,
        header: e.NETGSM_HEADER,
        baseUrl: e.NETGSM_BASE_URL,
      },
    },
    mail: { transport: e.MAIL_TRANSPORT, smtpUrl: e.SMTP_URL, from: e.MAIL_FROM, timeoutMs: e.MAIL_TIMEOUT_MS },
    sessions: { refreshReuseGraceSeconds: e.REFRESH_REUSE_GRACE_SECONDS, cacheTtlMs: e.SESSION_CACHE_TTL_MS },
    policies: {
      privacyPolicyVersion: e.PRIVACY_POLICY_VERSION,
      termsOfUseVersion: e.TERMS_OF_USE_VERSION,
      consentFormVersion: e.CONSENT_FORM_VERSION,
    },
    accounts: {
      usernameChangeIntervalDays: e.USERNAME_CHANGE_INTERVAL_DAYS,
      deletionGraceDays: e.ACCOUNT_DELETION_GRACE_DAYS,
      finalizeNowEnabled: e.ACCOUNT_DELETION_FINALIZE_NOW,
      deletionSweepEveryMs: e.ACCOUNT_DELETION_SWEEP_EVERY_MS,
    },
    outbox: { relayEveryMs: e.OUTBOX_RELAY_EVERY_MS, relayAfterMs: e.OUTBOX_RELAY_AFTER_MS },
    audit: { retentionDays: e.AUDIT_RETENTION_DAYS },
    expirySweepEveryMs: e.EXPIRY_SWEEP_EVERY_MS,
    worker: { lockDurationMs: e.WORKER_LOCK_DURATION_MS, stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS },
    docs: {
      servers:
        e.API_SERVERS ??
        (nodeEnv === 'production' ? [] : [{ description: 'Development', url: `http://localhost:${e.PORT}` }]),
    },
    metrics: { enabled: e.METRICS_ENABLED, token: e.METRICS_TOKEN, workerPort: e.WORKER_METRICS_PORT },
    queueDashboard: {
      enabled: nodeEnv !== 'production' || e.QUEUE_DASHBOARD_PASSWORD !== undefined,
      basic:
        e.QUEUE_DASHBOARD_USER !== undefined && e.QUEUE_DASHBOARD_PASSWORD !== undefined
          ? { user: e.QUEUE_DASHBOARD_USER, password: e.QUEUE_DASHBOARD_PASSWORD }
          : undefined,
    },
  });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
