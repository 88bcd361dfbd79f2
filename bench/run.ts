/**
 * Benchmarks (`npm run bench`; figures in BENCHMARKS.md). Against the
 * MongoDB-wire server and Redis of MONGODB_URI / REDIS_URL (the stack script
 * starts local ones), in one invocation:
 *
 * 1. Login throughput and latency: verify-otp with fresh codes (half new
 *    users, half returning) at several concurrencies, for our web process and
 *    for the floor (bench/floor.ts), with CPU time per login and peak memory.
 * 2. Worker drain: 20,000 login and signup jobs, jobs/s.
 * 3. Backlog: a sustained login load at the web's best rate with the worker
 *    running; the time for every queue to be empty after the load stops.
 * 4. Soak (`--soak-minutes=N`, default 5, 0 to skip): a steady login rate
 *    (a third of the best, or --soak-rate=N) for N minutes; web and worker
 *    RSS and live heap after a forced GC (bench/memory-probe.mjs) each minute.
 *
 * Flags: --quick (fewer requests), --soak-minutes=N, --skip-login (start at
 * the worker phases; the sustained load then runs at --rate=N logins/s),
 * --skip-drain (no 20,000-job drain), --cpu-prof (V8 CPU profiles of the web and
 * the floor, summarized as CPU ms per login by origin: package, Node, our code).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import mongoose from 'mongoose';
import { loadConfig } from '../config/index.js';
import { closeQueues, createQueues, QUEUE_NAMES, type Queues } from '../src/jobs/queues.js';
import { hmacHex, randomDigits } from '../src/lib/crypto.js';
import { connectMongo } from '../src/lib/mongo.js';
import { closeRedis, createRedis } from '../src/lib/redis.js';
import { Outbox } from '../src/models/outbox.js';
import { registerModels } from '../src/models/index.js';
import { ensureIndexes } from '../src/models/indexes.js';
import { createLogger } from '../src/lib/logger.js';
import { cpuByOrigin } from './profile.js';

const args = process.argv.slice(2);
/** The value of `--name=value`, if given. */
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = args.includes('--quick');
const soakMinutes = Number(flag('soak-minutes') ?? (quick ? 0 : 5));
const CONCURRENCIES = quick ? [1, 16] : [1, 8, 32];
const LOGINS_PER_RUN = quick ? 200 : 600;
const skipLogin = args.includes('--skip-login');
const soakRate = flag('soak-rate') === undefined ? undefined : Number(flag('soak-rate'));
const assumedRate = Number(flag('rate') ?? 10);

const MEMORY_DIR = mkdtempSync(path.join(tmpdir(), 'allmine-bench-memory-'));
/** `--cpu-prof`: the web and the floor write V8 CPU profiles here; summarized by origin at the end. */
const cpuProf = args.includes('--cpu-prof');
const PROFILE_DIR = mkdtempSync(path.join(tmpdir(), 'allmine-bench-profile-'));
const SECRETS = { JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123456789', OTP_HMAC_SECRET: 'bench-otp-secret-0123456789abcdef012345678' };
const APP_ENV = {
  ...process.env,
  ...SECRETS,
  NODE_ENV: 'development',
  LOG_LEVEL: 'warn',
  PORT: '0',
  OTP_VERIFY_PER_IP_HOUR: '1000000000',
  OTP_VERIFY_PER_NUMBER_HOUR: '1000000000',
  OUTBOX_RELAY_AFTER_MS: '10000',
  BENCH_MEMORY_DIR: MEMORY_DIR,
};
const config = loadConfig(APP_ENV);

// ------------------------------------------------------------------ processes

interface Proc {
  name: string;
  child: ChildProcess;
  port?: number;
}

/**
 * Starts an entry point. Ready when it prints the log line `ready`, or, given
 * a `port`, when `GET /healthz` (or any answer at all, for the floor) comes back.
 */
function start(name: string, entry: string, ready: string | number, env: NodeJS.ProcessEnv = APP_ENV): Promise<Proc> {
  const port = typeof ready === 'number' ? ready : undefined;
  // Our processes (not the floor) get the soak's memory probe: a GC and a heap reading on SIGUSR2.
  const probe = entry.startsWith('src/') ? ['--expose-gc', '--import', './bench/memory-probe.mjs'] : [];
  const profile = cpuProf && port ? [`--cpu-prof`, `--cpu-prof-dir=${path.join(PROFILE_DIR, name)}`] : [];
  const child = spawn(process.execPath, [...probe, ...profile, '--import', 'tsx', entry], { env: port ? { ...env, PORT: String(port) } : env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 30_000;
    const done = () => resolve({ name, child, port });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code})`)));
    const lines = createInterface({ input: child.stdout! });
    if (port) {
      lines.on('line', () => undefined); // drain
      const poll = (): void => {
        fetch(`http://127.0.0.1:${port}/healthz`).then(done, () => {
          if (Date.now() > deadline) reject(new Error(`${name} did not start`));
          else setTimeout(poll, 100);
        });
      };
      poll();
      return;
    }
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 30_000);
    lines.on('line', (line) => {
      if (line.includes(`"msg":"${ready}"`)) {
        clearTimeout(timer);
        done();
      }
    });
  });
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  await exited;
}

const TICK_MS = 1000 / 100; // USER_HZ
/** CPU time (user + system) of a process so far, ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
/** Live heap after a full GC, MiB (bench/memory-probe.mjs, preloaded into our processes, answers SIGUSR2). */
async function liveHeap(pid: number): Promise<number> {
  const file = path.join(MEMORY_DIR, `${pid}.json`);
  const asked = Date.now();
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const sample = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { at: number; heapUsed: number }) : undefined;
    if (sample && sample.at >= asked) return sample.heapUsed / 2 ** 20;
  }
  return NaN;
}

/** Peak and current resident memory, MiB. */
function memory(pid: number): { peak: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { peak: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
}

// ------------------------------------------------------------------ data

let serial = 0;
/** A unique valid Turkish mobile number per login of the whole run. */
function nextPhone(): string {
  serial++;
  return `53${(Date.now() % 1e5).toString().padStart(5, '0').slice(-3)}${serial.toString().padStart(5, '0')}`.slice(0, 10);
}

interface Login {
  countryCode: string;
  phoneNumber: string;
  code: string;
}

/** Codes for `n` logins, every second one of an existing user, written straight to the database. */
async function seedLogins(n: number): Promise<Login[]> {
  const db = mongoose.connection.db!;
  const now = new Date();
  const logins: Login[] = [];
  const codes: Record<string, unknown>[] = [];
  const users: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const phoneNumber = nextPhone();
    const e164 = `+90${phoneNumber}`;
    const code = randomDigits(4);
    logins.push({ countryCode: '90', phoneNumber, code });
    codes.push({ subject: `phone:${e164}`, codeHash: hmacHex(SECRETS.OTP_HMAC_SECRET, `phone:${e164}\n${code}`), createdAt: now, expiresAt: new Date(now.getTime() + 3600_000), isTestNumber: false });
    if (i % 2 === 1) {
      const _id = new mongoose.Types.ObjectId();
      users.push({ _id, phoneKey: e164, emailKey: `none:${_id.toHexString()}`, countryCode: '90', phoneNumber, roles: ['user'], interests: [], expertise: [], isRegistrationComplete: false, createdAt: now, updatedAt: now });
    }
  }
  for (let i = 0; i < codes.length; i += 1000) await db.collection('otp_codes').insertMany(codes.slice(i, i + 1000));
  for (let i = 0; i < users.length; i += 1000) await db.collection('users').insertMany(users.slice(i, i + 1000));
  return logins;
}

/**
 * Empties what logins write, so every measured run starts from the same
 * database (FerretDB scans collections, so a run after a bigger one would be
 * slower for that reason alone).
 */
async function resetLoginData(): Promise<void> {
  const db = mongoose.connection.db!;
  await Promise.all(['otp_codes', 'otp_attempts', 'sessions', 'refresh_tokens', 'outbox', 'users'].map((c) => db.collection(c).deleteMany({})));
}

interface RunResult {
  ok: number;
  warmupOk?: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  cpuPerLogin: number;
}

async function hammer(port: number, path: string, logins: Login[], opts: { connections: number; overallRate?: number; durationSeconds?: number; pid: number }): Promise<RunResult> {
  let i = 0;
  const cpuBefore = cpuMs(opts.pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: opts.connections,
    ...(opts.durationSeconds ? { duration: opts.durationSeconds } : { amount: logins.length }),
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: JSON.stringify(logins[i++ % logins.length]) }),
      },
    ],
  });
  const cpu = cpuMs(opts.pid) - cpuBefore;
  const ok = result['2xx'];
  return {
    ok,
    rps: ok / (result.duration || 1),
    p50: result.latency.p50,
    p95: result.latency.p97_5 ?? result.latency.p90,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    cpuPerLogin: ok ? cpu / ok : NaN,
  };
}

async function queueBacklog(queues: Queues): Promise<number> {
  let n = 0;
  for (const name of QUEUE_NAMES) {
    if (name === 'account-deletion' || name === 'outbox-relay') continue;
    const c = await queues[name].getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    n += (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
  }
  return n;
}

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const table = (rows: (string | number)[][]) => {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const r of rows) console.log(r.map((v, c) => String(v).padStart(widths[c]!)).join('  '));
};

// ------------------------------------------------------------------ main

await connectMongo(config);
registerModels();
await ensureIndexes(mongoose.connection, createLogger({ level: 'silent' }));
const redis = createRedis(config, 'bullmq');
const queues = createQueues(config, redis);

console.log(`# bench: node ${process.version}, ${quick ? 'quick' : 'full'} run, ${new Date().toISOString()}`);
console.log(`# servers: ${config.mongodbUri.replace(/\/\/[^@]*@/, '//')} ${config.redis.url.replace(/\/\/[^@]*@/, '//')}\n`);

// 1. login throughput: ours vs the floor, same servers, same invocation.
const web = await start('web', 'src/server.ts', await freePort());
let best = skipLogin ? assumedRate : 0;
const served = { web: 0, floor: 0 };
if (!skipLogin) {
  const floor = await start('floor', 'bench/floor.ts', await freePort());
  const rows: (string | number)[][] = [['target', 'conc', 'logins/s', 'p50 ms', 'p97.5 ms', 'p99 ms', 'errors', 'cpu ms/login', 'ratio']];
  for (const connections of CONCURRENCIES) {
    const measure = async (target: Proc, path: string) => {
      await resetLoginData();
      const warmup = await hammer(target.port!, path, await seedLogins(50), { connections, pid: target.child.pid! });
      return { ...(await hammer(target.port!, path, await seedLogins(LOGINS_PER_RUN), { connections, pid: target.child.pid! })), warmupOk: warmup.ok };
    };
    const ours = await measure(web, '/api/v1/auth/verify-otp');
    const base = await measure(floor, '/login');
    served.web += ours.ok + ours.warmupOk;
    served.floor += base.ok + base.warmupOk;
    best = Math.max(best, ours.rps);
    rows.push(['ours', connections, fmt(ours.rps), ours.p50, ours.p95, ours.p99, ours.errors, fmt(ours.cpuPerLogin, 2), fmt(ours.rps / base.rps, 2)]);
    rows.push(['floor', connections, fmt(base.rps), base.p50, base.p95, base.p99, base.errors, fmt(base.cpuPerLogin, 2), '']);
    console.log(`# concurrency ${connections}: ours ${fmt(ours.rps)}/s, floor ${fmt(base.rps)}/s`);
  }
  console.log('## login throughput (verify-otp, half new users, half returning)');
  table(rows);
  console.log(`peak memory: web ${fmt(memory(web.child.pid!).peak)} MiB, floor ${fmt(memory(floor.child.pid!).peak)} MiB\n`);
  await stop(floor);
}

// 2. worker drain: 20,000 jobs.
const drainJobs = args.includes('--skip-drain') ? 0 : quick ? 4000 : 20_000;
{
  const db = mongoose.connection.db!;
  const now = new Date();
  const users = Array.from({ length: drainJobs / 2 }, () => new mongoose.Types.ObjectId());
  const sessions = users.map(() => new mongoose.Types.ObjectId());
  for (let i = 0; i < users.length; i += 1000) {
    await db.collection('users').insertMany(users.slice(i, i + 1000).map((_id) => ({ _id, phoneKey: `bench:${_id.toHexString()}`, emailKey: `none:${_id.toHexString()}`, roles: ['user'], signupSource: 'bench', createdAt: now, updatedAt: now })));
    await db.collection('sessions').insertMany(sessions.slice(i, i + 1000).map((_id, k) => ({ _id, userId: users[i + k], createdAt: now, lastUsedAt: now, expiresAt: new Date(now.getTime() + 86_400_000), revokedAt: null, platform: 'web' })));
  }
  for (let i = 0; i < users.length; i += 1000) {
    const slice = users.slice(i, i + 1000);
    await queues['last-login'].addBulk(slice.map((u, k) => ({ name: 'last-login', data: { userId: u.toHexString(), sessionId: sessions[i + k]!.toHexString(), loginAt: now.toISOString() }, opts: { jobId: `bench-ll-${sessions[i + k]!.toHexString()}` } })));
    await queues['signup-attribution'].addBulk(slice.map((u, k) => ({ name: 'signup-attribution', data: { userId: u.toHexString(), sessionId: sessions[i + k]!.toHexString() }, opts: { jobId: `bench-sa-${u.toHexString()}` } })));
  }
  const worker = await start('worker', 'src/workers/index.ts', 'worker started', { ...APP_ENV, LOG_LEVEL: 'info', WORKER_CONCURRENCY: '20' });
  const t0 = Date.now();
  while ((await queueBacklog(queues)) > 0) await new Promise((r) => setTimeout(r, 200));
  const seconds = (Date.now() - t0) / 1000;
  if (drainJobs > 0) {
    console.log('## worker drain');
    table([
      ['jobs', 'seconds', 'jobs/s', 'worker peak MiB'],
      [drainJobs, fmt(seconds), fmt(drainJobs / seconds), fmt(memory(worker.child.pid!).peak)],
    ]);
    console.log('');
  }

  // 3. backlog after a sustained load at the web's best rate.
  await resetLoginData();
  const sustained = await seedLogins(Math.max(200, Math.round(best * (quick ? 5 : 15))));
  const load = await hammer(web.port!, '/api/v1/auth/verify-otp', sustained, { connections: 16, pid: web.child.pid! });
  served.web += load.ok;
  const stoppedAt = Date.now();
  while ((await queueBacklog(queues)) > 0 || (await Outbox.countDocuments({ dispatchedAt: null })) > 0) await new Promise((r) => setTimeout(r, 100));
  console.log('## backlog after a sustained load');
  table([
    ['logins', 'logins/s', 'errors', 'seconds to empty queues'],
    [sustained.length, fmt(load.rps), load.errors, fmt((Date.now() - stoppedAt) / 1000, 2)],
  ]);
  console.log('');

  // 4. soak: a steady rate for a fixed time; memory of web and worker sampled at the end of each minute.
  if (soakMinutes > 0) {
    await resetLoginData();
    // A third of the best rate: FerretDB slows as its collections grow, and the soak is about a steady state.
    const rate = soakRate ?? Math.max(2, Math.round(best / 3));
    const soak = await seedLogins(Math.ceil(rate * 60 * soakMinutes * 1.05));
    type Sample = { minute: number; webRss: number; webHeap: number; workerRss: number; workerHeap: number };
    const samples: Sample[] = [];
    let sampling = Promise.resolve();
    const sampler = setInterval(() => {
      sampling = sampling.then(async () => {
        const [webHeap, workerHeap] = [await liveHeap(web.child.pid!), await liveHeap(worker.child.pid!)];
        samples.push({ minute: samples.length + 1, webRss: memory(web.child.pid!).rss, webHeap, workerRss: memory(worker.child.pid!).rss, workerHeap });
      });
    }, 60_000);
    const result = await hammer(web.port!, '/api/v1/auth/verify-otp', soak, { connections: 8, overallRate: rate, durationSeconds: soakMinutes * 60 + 1, pid: web.child.pid! });
    clearInterval(sampler);
    await sampling;
    served.web += result.ok;
    console.log(`## soak: ${soakMinutes} min at ${rate} logins/s asked (${fmt(result.rps)} achieved, ${result.ok} logins, ${result.errors} errors)`);
    table([
      ['minute', 'web RSS MiB', 'web live heap MiB', 'worker RSS MiB', 'worker live heap MiB'],
      ...samples.map((s) => [s.minute, fmt(s.webRss), fmt(s.webHeap), fmt(s.workerRss), fmt(s.workerHeap)]),
    ]);
    const first = samples[0];
    const last = samples.at(-1);
    const pct = (a: number, b: number) => `${b >= a ? '+' : ''}${fmt((b / a - 1) * 100)} %`;
    if (first && last && last !== first) {
      console.log(`minute ${last.minute} vs minute 1: web RSS ${pct(first.webRss, last.webRss)}, live heap ${pct(first.webHeap, last.webHeap)}; `
        + `worker RSS ${pct(first.workerRss, last.workerRss)}, live heap ${pct(first.workerHeap, last.workerHeap)}`);
    }
  }
  await stop(worker);
}

await stop(web);
rmSync(MEMORY_DIR, { recursive: true, force: true });
if (cpuProf && !skipLogin) {
  // Whole-process profiles (start-up included); the web also served the backlog phase's logins.
  const web = cpuByOrigin(path.join(PROFILE_DIR, 'web'));
  const floor = cpuByOrigin(path.join(PROFILE_DIR, 'floor'));
  const webLogins = served.web;
  const origins = [...new Set([...web.keys(), ...floor.keys()])].sort((a, b) => (web.get(b) ?? 0) - (web.get(a) ?? 0));
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  console.log(`## CPU profile: self time by origin, ms per login (web ${webLogins} logins, floor ${served.floor})`);
  table([
    ['origin', 'web ms/login', 'floor ms/login'],
    ...origins.filter((o) => (web.get(o) ?? 0) / webLogins >= 0.05 || (floor.get(o) ?? 0) / served.floor >= 0.05)
      .map((o) => [o, fmt((web.get(o) ?? 0) / webLogins, 2), fmt((floor.get(o) ?? 0) / served.floor, 2)]),
    ['all (idle excluded)', fmt(total(web) / webLogins, 2), fmt(total(floor) / served.floor, 2)],
  ]);
}
rmSync(PROFILE_DIR, { recursive: true, force: true });
await closeQueues(queues);
await closeRedis(redis);
await mongoose.disconnect();
