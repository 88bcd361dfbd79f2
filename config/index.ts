/**
 * The one place that reads the environment. `loadConfig()` parses every key
 * once, at boot, and throws a `ConfigError` naming every bad or missing key.
 * Development and test get safe local defaults; production gets none for
 * URLs and secrets. Every key is documented in `.env.example` and the README.
 */
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
const list = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

/**
 * Express `trust proxy`: `true`/`false`, a hop count (Heroku's router is 1 hop),
 * or a comma-separated list of addresses/subnets.
 */
const trustProxy = z.string().transform((v): boolean | number | string[] => {
  if (v === 'true') return true;
  if (v === 'false' || v === '') return false;
  if (/^\d+$/.test(v)) return Number(v);
  return v.split(',').map((s) => s.trim()).filter(Boolean);
});

// Dev/test-only stand-ins, never accepted in production (see `refine` below).
const DEV_JWT_SECRET = 'development-only-jwt-secret-not-for-production-use';
const DEV_OTP_SECRET = 'development-only-otp-hmac-secret-not-for-production';

function schemaFor(nodeEnv: NodeEnv) {
  const prod = nodeEnv === 'production';
  const dbName = nodeEnv === 'test' ? 'allmine_test' : 'allmine_dev';
  // In production a missing key stays missing so zod names it.
  const devDefault = <T extends z.ZodType>(s: T, value: string) => (prod ? s : s.default(value as never));
  const secret = (name: string) =>
    z
      .string({ error: `${name} is required` })
      .refine((v) => Buffer.byteLength(v, 'utf8') >= 32, `${name} must be at least 32 bytes`);

  return z.object({
    NODE_ENV: z.enum(NODE_ENVS),
    PORT: int(0, 65535).default(3000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(
      nodeEnv === 'test' ? 'silent' : 'info',
    ),
    MONGODB_URI: devDefault(z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URI'), `mongodb://127.0.0.1:27017/${dbName}`),
    REDIS_URL: devDefault(z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'), 'redis://127.0.0.1:6379'),
    /** Heroku Redis presents a self-signed certificate on rediss:// URLs. */
    REDIS_TLS_REJECT_UNAUTHORIZED: bool.default(true),
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
    /** Hard deadline for a graceful shutdown; Heroku kills at 30 s. */
    SHUTDOWN_TIMEOUT_MS: int(1000, 28_000).default(20_000),
    WORKER_CONCURRENCY: int(1, 256).default(10),
    READINESS_TIMEOUT_MS: int(50, 10_000).default(1500),
  });
}

export type Config = Readonly<{
  nodeEnv: NodeEnv;
  isProduction: boolean;
  port: number;
  logLevel: string;
  mongodbUri: string;
  redis: { url: string; tlsRejectUnauthorized: boolean; queuePrefix: string };
  jwt: { secret: string; issuer: string; audience: string };
  otp: { hmacSecret: string };
  http: { corsOrigins: string[]; trustProxy: boolean | number | string[]; bodyLimitBytes: number };
  shutdownTimeoutMs: number;
  workerConcurrency: number;
  readinessTimeoutMs: number;
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
  const parsed = schemaFor(nodeEnv).safeParse({ ...source, NODE_ENV: nodeEnv });
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const key = i.path.join('.');
        const msg = i.code === 'invalid_type' && i.input === undefined ? 'is required' : i.message;
        return `${key}: ${msg}`;
      }),
    );
  }
  const e = parsed.data;
  return deepFreeze({
    nodeEnv,
    isProduction: nodeEnv === 'production',
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    mongodbUri: e.MONGODB_URI,
    redis: { url: e.REDIS_URL, tlsRejectUnauthorized: e.REDIS_TLS_REJECT_UNAUTHORIZED, queuePrefix: e.QUEUE_PREFIX },
    jwt: { secret: e.JWT_SECRET, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    otp: { hmacSecret: e.OTP_HMAC_SECRET },
    http: { corsOrigins: e.CORS_ORIGINS, trustProxy: e.TRUST_PROXY, bodyLimitBytes: e.BODY_LIMIT_BYTES },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    readinessTimeoutMs: e.READINESS_TIMEOUT_MS,
  });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
