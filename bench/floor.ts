/**
 * The floor: the unavoidable work of one phone login with no framework.
 * A bare `node:http` server that, for `POST /login` with
 * `{ countryCode, phoneNumber, code }`, does exactly the database and Redis
 * operations of our verify-otp (src/services/auth.ts, otp.ts, sessions.ts,
 * src/jobs/outbox.ts), in the same order and with the same parallelism:
 *
 * 1. the per-IP limiter call;
 * 2. in parallel: the user read by `phoneKey`, and the code: the read by
 *    `_id` (unexpired, under the attempt limit, not bound to a device), the
 *    attempt (`findOneAndUpdate({ _id, codeId, attempts: <read> },
 *    { $inc: { attempts: 1 } })`, the compare-and-set), then the per-number
 *    limiter call (charged only by attempts that reached a code and were counted),
 *    the HMAC and its constant-time compare, and the claim of the code
 *    (`deleteOne({ _id: subject, codeId })`, one winner);
 * 3. the user insert, for a new user (the same document mongoose writes);
 * 4. in parallel: the session, the refresh token and ONE outbox document
 *    carrying the login's 2–3 events;
 * 5. the JWT signature and the response (a JSON body of the same size class);
 * 6. after the response: the 2–3 enqueues, then the outbox document deleted, gathered across requests as
 *    the app's fast path gathers them (src/jobs/outbox.ts, FAST_PATH: one `addBulk` per queue and one
 *    `deleteMany` per batch, with the same batcher).
 *
 * No validation library, no envelope builder, no logging, no Express, no
 * mongoose documents on the request path (the user template is built once).
 *
 * Started by bench/run.ts as its own process: MONGODB_URI, REDIS_URL, PORT,
 * JWT_SECRET and OTP_HMAC_SECRET come from the environment.
 */
import { createHash, createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import mongoose from 'mongoose';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { enqueue, FAST_PATH, type OutboxEvent } from '../src/jobs/outbox.js';
import { DEFAULT_JOB_OPTIONS, type Queues } from '../src/jobs/queues.js';
import { Batcher } from '../src/lib/batcher.js';
import { User } from '../src/models/user.js';

const { MongoClient, ObjectId } = mongoose.mongo;
const env = process.env;
const MAX_ATTEMPTS = Number(env.OTP_MAX_ATTEMPTS ?? 5);
const OUTBOX_KEEP_MS = 7 * 24 * 3600 * 1000;
const REFRESH_TTL_S = 2592000;
/** The secret as a key object, made once, as src/services/tokens.ts does. */
const JWT_KEY = createSecretKey(Buffer.from(env.JWT_SECRET!, 'utf8'));
const mongo = await new MongoClient(env.MONGODB_URI!).connect();
const db = mongo.db();
const redis = new Redis(env.REDIS_URL!, { enableOfflineQueue: false, maxRetriesPerRequest: 2 });
await new Promise((r) => redis.once('ready', r));
const prefix = env.QUEUE_PREFIX ?? '{allmine}';
// The same queues and job options as src/jobs/queues.ts: the same Redis work per job, the same worker.
// Only the login's three queues exist here; `enqueue` is handed only their events.
const queues = Object.fromEntries(
  ['last-login', 'funnel', 'signup-attribution'].map((name) => [
    name,
    new Queue(name, { connection: redis, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS }),
  ]),
) as Queues;
const limiters = [
  new RateLimiterRedis({ storeClient: redis, keyPrefix: 'floor:vn', points: 1e9, duration: 3600 }),
  new RateLimiterRedis({ storeClient: redis, keyPrefix: 'floor:vi', points: 1e9, duration: 3600 }),
];
const users = db.collection('users');
/** Documents keyed by a string (`otp_codes`: the subject; `refresh_tokens`: the hash; `outbox`: a job id). */
type Keyed = { _id: string } & mongoose.mongo.Document;
const codes = db.collection<Keyed>('otp_codes');
const sessions = db.collection('sessions');
const refreshTokens = db.collection<Keyed>('refresh_tokens');
const outbox = db.collection<Keyed>('outbox');

const fastPath = new Batcher<{ id: string; events: OutboxEvent[] }>(async (_key, items) => {
  await enqueue(
    queues,
    items.flatMap((i) => i.events),
  );
  const ids = items.map((i) => i.id);
  await (ids.length === 1 ? outbox.deleteOne({ _id: ids[0]! }) : outbox.deleteMany({ _id: { $in: ids } }));
}, FAST_PATH);

/** A new user as `User.create` writes it: every schema default (built once, not per request). */
const { _id: _unused, ...userDefaults } = new User({}).toObject() as Record<string, unknown>;

const send = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

async function login(body: Buffer, ip: string, userAgent: string | null, res: ServerResponse): Promise<void> {
  const { countryCode, phoneNumber, code } = JSON.parse(body.toString()) as Record<string, string>;
  const e164 = `+${countryCode}${phoneNumber}`;
  const subject = `phone:${e164}`;
  const now = new Date();
  await limiters[1]!.consume(ip);
  /** The code: the attempt, then (once it reached a code) the per-number limiter, the compare, the claim. */
  const consume = async (): Promise<{ status: number; codeId?: InstanceType<typeof ObjectId> }> => {
    const seen = await codes.findOne(
      { _id: subject },
      { projection: { codeId: 1, expiresAt: 1, attempts: 1, verificationHash: 1 } },
    );
    if (
      !seen ||
      !((seen.expiresAt as Date) > now) ||
      (seen.attempts as number) >= MAX_ATTEMPTS ||
      seen.verificationHash
    )
      return { status: 404 };
    const current = await codes.findOneAndUpdate(
      { _id: subject, codeId: seen.codeId, attempts: seen.attempts },
      { $inc: { attempts: 1 } },
      { returnDocument: 'after', projection: { codeId: 1, codeHash: 1, attempts: 1, isTestNumber: 1 } },
    );
    if (!current) return { status: 404 };
    await limiters[0]!.consume(subject);
    const hash = createHmac('sha256', env.OTP_HMAC_SECRET!).update(`${subject}\n${code}`).digest();
    const stored = Buffer.from(current.codeHash as string, 'hex');
    if (stored.length !== hash.length || !timingSafeEqual(hash, stored)) return { status: 400 };
    const codeId = current.codeId as InstanceType<typeof ObjectId>;
    const claimed = await codes.deleteOne({ _id: subject, codeId });
    return claimed.deletedCount === 1 ? { status: 200, codeId } : { status: 404 };
  };
  const [{ status, codeId }, existing] = await Promise.all([consume(), users.findOne({ phoneKey: e164 })]);
  if (!codeId) return send(res, status, { error: status === 400 ? 'invalid' : 'not found' });

  let user = existing;
  const isNew = !user;
  if (!user) {
    user = {
      ...userDefaults,
      _id: new ObjectId(),
      phoneKey: e164,
      countryCode,
      phoneNumber,
      signupCountry: countryCode,
      signupPlatform: 'web',
      createdAt: now,
      updatedAt: now,
      __v: 0,
    };
    await users.insertOne(user);
  }

  const sid = new ObjectId();
  const sessionId = sid.toHexString();
  const userId = user._id.toHexString();
  const refresh = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + REFRESH_TTL_S * 1000);
  const at = now.toISOString();
  const events: OutboxEvent[] = [
    { queue: 'last-login', jobId: `last-login-${sessionId}`, data: { userId, sessionId, loginAt: at, reqId: 'floor' } },
    {
      queue: 'funnel',
      jobId: `otp-verified-${codeId.toHexString()}`,
      data: {
        step: 'otp-verified',
        codeId: codeId.toHexString(),
        at,
        channel: 'phone',
        country: countryCode,
        platform: 'web',
        source: null,
        campaign: null,
      },
    },
    ...(isNew
      ? [
          {
            queue: 'signup-attribution' as const,
            jobId: `signup-attribution-${userId}`,
            data: { userId, sessionId, reqId: 'floor' },
          },
        ]
      : []),
  ];
  const outboxId = events[0]!.jobId;
  await Promise.all([
    sessions.insertOne({
      _id: sid,
      userId: user._id,
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
      revokedAt: null,
      revokedReason: null,
      ip,
      userAgent,
      platform: 'web',
      deviceId: null,
      appVersion: null,
    }),
    refreshTokens.insertOne({
      _id: createHash('sha256').update(refresh).digest('hex'),
      sessionId: sid,
      userId: user._id,
      parentId: null,
      issuedAt: now,
      expiresAt,
    }),
    outbox.insertOne({ _id: outboxId, events, createdAt: now, expiresAt: new Date(now.getTime() + OUTBOX_KEEP_MS) }),
  ]);
  const roles = (user.roles as string[] | undefined) ?? ['user'];
  const accessToken = jwt.sign({ sid: sessionId, roles, iat: Math.floor(now.getTime() / 1000) }, JWT_KEY, {
    algorithm: 'HS256',
    issuer: 'allmine-auth',
    audience: 'allmine-app',
    subject: userId,
    expiresIn: 3600,
  });
  const { _id, phoneKey: _phoneKey, __v: _v, ...fields } = user;
  send(res, 200, {
    accessToken,
    refreshToken: refresh,
    expiresIn: 3600,
    refreshExpiresIn: REFRESH_TTL_S,
    user: { id: _id.toHexString(), ...fields },
    isRegistrationComplete: user.isRegistrationComplete === true,
  });

  // After the response, like the app's fast path: enqueue, then the outbox document goes.
  await fastPath.add('enqueue', { id: outboxId, events });
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    login(Buffer.concat(chunks), req.socket.remoteAddress ?? 'unknown', req.headers['user-agent'] ?? null, res).catch(
      (err: unknown) => {
        if (!res.headersSent) send(res, 500, { error: String(err) });
      },
    );
  });
});

server.listen(Number(env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'floor listening', port: address.port })}\n`);
});

process.on('SIGTERM', () => {
  server.close();
  void Promise.all(Object.values(queues).map((q) => q.close())).then(async () => {
    redis.disconnect();
    await mongo.close();
    process.exit(0);
  });
});
