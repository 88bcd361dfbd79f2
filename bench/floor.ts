/**
 * The floor: the unavoidable work of one phone login with no framework.
 * A bare `node:http` server that, for `POST /login` with
 * `{ countryCode, phoneNumber, code }`, does exactly the database and Redis
 * operations of our verify-otp (the two limiter calls, the code and user
 * reads, the attempt insert and read, the session + refresh token + outbox
 * inserts, the enqueue and the dispatched mark after the response), the
 * HMAC and the JWT signature, and answers a JSON body of the same size class.
 * No validation library, no envelope builder, no logging, no Express.
 *
 * Started by bench/run.ts as its own process: MONGODB_URI, REDIS_URL, PORT,
 * JWT_SECRET and OTP_HMAC_SECRET come from the environment.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import mongoose from 'mongoose';
import { RateLimiterRedis } from 'rate-limiter-flexible';

const { MongoClient, ObjectId } = mongoose.mongo;
const env = process.env;
const mongo = await new MongoClient(env.MONGODB_URI!).connect();
const db = mongo.db();
const redis = new Redis(env.REDIS_URL!, { enableOfflineQueue: false, maxRetriesPerRequest: 2 });
await new Promise((r) => redis.once('ready', r));
const prefix = env.QUEUE_PREFIX ?? '{allmine}';
const lastLogin = new Queue('last-login', { connection: redis, prefix });
const signup = new Queue('signup-attribution', { connection: redis, prefix });
const funnel = new Queue('funnel', { connection: redis, prefix });
const limiters = [
  new RateLimiterRedis({ storeClient: redis, keyPrefix: 'floor:vn', points: 1e9, duration: 3600 }),
  new RateLimiterRedis({ storeClient: redis, keyPrefix: 'floor:vi', points: 1e9, duration: 3600 }),
];
const users = db.collection('users');
const codes = db.collection('otp_codes');
const attempts = db.collection('otp_attempts');
const sessions = db.collection('sessions');
const refreshTokens = db.collection('refresh_tokens');
const outbox = db.collection('outbox');

const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      const { countryCode, phoneNumber, code } = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, string>;
      const e164 = `+${countryCode}${phoneNumber}`;
      const subject = `phone:${e164}`;
      const now = new Date();
      await Promise.all([limiters[0]!.consume(e164), limiters[1]!.consume(req.socket.remoteAddress ?? '')]);
      const [latest, existing] = await Promise.all([
        codes.findOne({ subject, expiresAt: { $gt: now } }, { sort: { createdAt: -1, _id: -1 } }),
        users.findOne({ phoneKey: e164 }),
      ]);
      if (!latest) return send(res, 404, { error: 'not found' });
      const hash = Buffer.from(createHmac('sha256', env.OTP_HMAC_SECRET!).update(`${subject}\n${code}`).digest('hex'), 'hex');
      const ok = timingSafeEqual(hash, Buffer.from(latest.codeHash as string, 'hex'));
      if (!ok) return send(res, 400, { error: 'invalid' });
      await attempts.insertOne({ _id: `${latest._id.toHexString()}:ok` as never, codeId: latest._id, ok, at: now, expiresAt: latest.expiresAt });
      await attempts.find({ codeId: latest._id }).toArray();
      let user = existing;
      const isNew = !user;
      if (!user) {
        const _id = new ObjectId();
        user = { _id, phoneKey: e164, emailKey: `none:${_id.toHexString()}`, countryCode, phoneNumber, roles: ['user'], createdAt: now };
        await users.insertOne(user);
      }
      const sid = new ObjectId();
      const refresh = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now.getTime() + 2592000_000);
      const userId = user._id.toHexString();
      const events = [
        { _id: `last-login-${sid.toHexString()}`, queue: 'last-login', data: { userId, sessionId: sid.toHexString(), loginAt: now.toISOString() } },
        { _id: `otp-verified-${latest._id.toHexString()}`, queue: 'funnel', data: { step: 'otp-verified', codeId: latest._id.toHexString(), at: now.toISOString() } },
        ...(isNew ? [{ _id: `signup-attribution-${userId}`, queue: 'signup-attribution', data: { userId, sessionId: sid.toHexString() } }] : []),
      ];
      await Promise.all([
        sessions.insertOne({ _id: sid, userId: user._id, createdAt: now, lastUsedAt: now, expiresAt, revokedAt: null }),
        refreshTokens.insertOne({ _id: createHash('sha256').update(refresh).digest('hex') as never, sessionId: sid, userId: user._id, issuedAt: now, expiresAt }),
        outbox.insertMany(events.map((e) => ({ ...e, _id: e._id as never, createdAt: now, dispatchedAt: null }))),
      ]);
      const accessToken = jwt.sign({ sid: sid.toHexString(), roles: ['user'] }, env.JWT_SECRET!, { algorithm: 'HS256', issuer: 'allmine-auth', audience: 'allmine-app', subject: userId, expiresIn: 3600 });
      send(res, 200, { accessToken, refreshToken: refresh, expiresIn: 3600, refreshExpiresIn: 2592000, user: { id: userId, countryCode, phoneNumber }, isRegistrationComplete: false });
      // After the response, like the app's fast path.
      const queues: Record<string, Queue> = { 'last-login': lastLogin, funnel, 'signup-attribution': signup };
      await Promise.all(events.map((e) => queues[e.queue]!.add(e.queue, e.data, { jobId: e._id })));
      await outbox.updateMany({ _id: { $in: events.map((e) => e._id as never) } }, { $set: { dispatchedAt: new Date() } });
    })().catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: String(err) });
    });
  });
});

server.listen(Number(env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address() as import('node:net').AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'floor listening', port: address.port })}\n`);
});

process.on('SIGTERM', () => {
  server.close();
  void Promise.all([lastLogin.close(), signup.close(), funnel.close()]).then(async () => {
    redis.disconnect();
    await mongo.close();
    process.exit(0);
  });
});
