#!/usr/bin/env node
// Local stack runner: installs dependencies, starts a private embedded MongoDB-wire server (mongo-java-server) and Redis
// instances unless MONGODB_URI / REDIS_URL are set, then runs the app (dev), the checks and tests
// (test), or only the services (services). Node built-ins only: it runs before `npm install`.
//
// Every child gets its own process group (detached), so a Ctrl-C in the terminal reaches only this
// script. It then stops things in order (commands and app first, services last) and kills whole
// groups, grandchildren included (npx -> tsc, tsx -> esbuild, mvn -> java).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, redisCommand as rawRedisCommand, redisPing } from './net.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MONGO_SRC = path.join(ROOT, 'tools', 'mongo-server');
const USAGE = `usage: node scripts/stack.mjs <mode> [args]
  dev                 services, index setup, then web + worker, restarted on change (Ctrl-C to stop)
  test [mocha args]   typecheck, lint, format check (SKIP_STATIC=1 skips them), services, mocha
  services            start the services, print their URIs, wait for Ctrl-C
  bench [flags]       fresh services, then bench/run.ts (--quick, --soak-minutes=N)
  fuzz [flags]        fresh services, then fuzz/run.mjs: schemathesis (--max-examples=N, --seed=N)
REDIS_CLUSTER=true without REDIS_URL starts a local 3-master Redis Cluster instead of one redis-server.`;

const state = {
  children: new Set(), // live children: { name, child, done, grace, tier, critical }
  tmpFiles: new Set(), // partial build outputs to delete if we are interrupted
  tmpDir: null, // service data and logs
  keepLogs: false, // a service failed: keep its log for the path we printed
  stopping: false,
  shutdown: null,
};

class StackError extends Error {}
const log = (msg) => console.log(`[stack] ${msg}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** fn(), or `fallback` when it throws. */
function attempt(fn, fallback) {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

// ------------------------------------------------------------------ child processes and cleanup

/**
 * Spawn a tracked child in its own process group. Tier 0 (commands, app) is stopped before tier 1
 * (services). Once `entry.critical` is set, the child exiting on its own brings the stack down.
 */
function start(name, cmd, args, { grace = 5000, tier = 0, ...opts } = {}) {
  if (state.stopping) throw new StackError('stopping');
  const child = spawn(cmd, args, { cwd: ROOT, detached: true, ...opts });
  const entry = { name, child, grace, tier, critical: false };
  entry.done = new Promise((resolve) => {
    child.once('error', (error) => {
      state.children.delete(entry);
      resolve({ code: null, signal: null, error });
    });
    child.once('exit', (code, signal) => {
      state.children.delete(entry);
      killGroup(child, 'SIGKILL'); // sweep anything the leader left behind in its group
      if (entry.critical && !state.stopping) {
        console.error(`[stack] ${name} exited unexpectedly (${signal ?? `code ${code}`})`);
        if (tier === 1) state.keepLogs = true;
        void shutdown(code || 1);
      }
      resolve({ code, signal });
    });
  });
  state.children.add(entry);
  return entry;
}

/** Run a command to completion with inherited output; resolves to its exit code. */
async function run(name, cmd, args, { deadlineMs, ...opts } = {}) {
  const entry = start(name, cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  // A hung run (a handle left open after a failure) must not hold CI until its own limit.
  const deadline = deadlineMs
    ? setTimeout(() => {
        console.error(`[stack] ${name} still running after ${Math.round(deadlineMs / 60_000)} min: stopping it`);
        void stopEntry(entry);
      }, deadlineMs)
    : undefined;
  const { code, signal, error } = await entry.done;
  clearTimeout(deadline);
  if (state.stopping) throw new StackError('stopping');
  if (error) throw new StackError(error.code === 'ENOENT' ? `\`${cmd}\` is not on PATH` : `${cmd}: ${error.message}`);
  return signal ? 1 : code;
}

// Throws when the group is gone already (or the spawn failed and there is no pid): nothing to do.
const killGroup = (child, signal) => attempt(() => process.kill(-child.pid, signal));

async function stopEntry(entry) {
  killGroup(entry.child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(entry.child, 'SIGKILL'), entry.grace);
  await entry.done;
  clearTimeout(timer);
}

function removeTemp() {
  for (const file of state.tmpFiles) fs.rmSync(file, { recursive: true, force: true });
  state.tmpFiles.clear();
  if (!state.tmpDir) return;
  if (state.keepLogs) {
    for (const f of fs.readdirSync(state.tmpDir)) {
      if (!f.endsWith('.log')) fs.rmSync(path.join(state.tmpDir, f), { recursive: true, force: true });
    }
    console.error(`[stack] service logs kept in ${state.tmpDir}`);
  } else {
    fs.rmSync(state.tmpDir, { recursive: true, force: true });
  }
  state.tmpDir = null;
}

/** Stop everything (tier by tier), remove temporary files and exit. Safe to call repeatedly. */
function shutdown(code) {
  state.shutdown ??= (async () => {
    state.stopping = true;
    for (const tier of [0, 1]) {
      await Promise.all([...state.children].filter((e) => e.tier === tier).map(stopEntry));
    }
    attempt(removeTemp); // whatever is left in the system temp dir must not keep us from exiting
    process.exit(code);
  })();
  return state.shutdown;
}

// Last resort for every way out (second Ctrl-C, uncaught exception): synchronous kill and cleanup.
process.on('exit', () => {
  for (const entry of state.children) killGroup(entry.child, 'SIGKILL');
  attempt(removeTemp);
});

// Under `npm run`, one Ctrl-C can arrive twice: from the terminal and forwarded by npm. So a repeat
// within a second of the first signal is the same interrupt, not a request to kill immediately.
let firstSignalAt = 0;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    const code = 128 + os.constants.signals[sig];
    if (state.stopping) {
      if (Date.now() - firstSignalAt < 1000) return;
      log(`${sig} again: killing everything now`);
      process.exit(code); // the 'exit' handler kills and cleans up
    }
    firstSignalAt = Date.now();
    log(`${sig}: stopping (press Ctrl-C again to kill immediately)`);
    void shutdown(code);
  });
}

// ------------------------------------------------------------------ small helpers

const isExecutable = (file) => attempt(() => fs.accessSync(file, fs.constants.X_OK) ?? true, false);
const onPath = (cmd) => (process.env.PATH ?? '').split(path.delimiter).some((d) => isExecutable(path.join(d, cmd)));

function serviceDir() {
  state.tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'allmine-stack-'));
  return state.tmpDir;
}

const tail = (file) => attempt(() => fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-20).join('\n'), '');

async function ensureDependencies() {
  const lock = path.join(ROOT, 'package-lock.json');
  const installed = path.join(ROOT, 'node_modules', '.package-lock.json');
  if (!fs.existsSync(lock)) throw new StackError('package-lock.json is missing; run `npm install` once to create it');
  if (fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs) return;
  log('node_modules is missing or older than package-lock.json: running npm ci');
  const code = await run('npm ci', 'npm', ['ci']);
  if (code !== 0) throw new StackError(`npm ci failed (exit ${code})`);
}

// ------------------------------------------------------------------ the embedded MongoDB-wire server

/**
 * mongo-java-server (in-memory backend), resolved with Maven and compiled once into
 * .cache/mongo-server/<hash of tools/mongo-server>/: `classpath.txt` (the jars in ~/.m2) and
 * `classes/`. Rebuilt only when the pom or the Java source changes.
 * @returns the `java -cp` value.
 */
async function mongoServerClasspath() {
  const hash = createHash('sha256');
  for (const f of ['pom.xml', 'EmbeddedMongo.java']) hash.update(fs.readFileSync(path.join(MONGO_SRC, f)));
  const cacheRoot = path.join(ROOT, '.cache', 'mongo-server');
  const dir = path.join(cacheRoot, hash.digest('hex').slice(0, 16));
  const cpFile = path.join(dir, 'classpath.txt');
  const classes = path.join(dir, 'classes');
  const ready = () => fs.existsSync(path.join(classes, 'EmbeddedMongo.class')) && fs.existsSync(cpFile);
  const jars = () => fs.readFileSync(cpFile, 'utf8').trim();
  if (
    ready() &&
    jars()
      .split(path.delimiter)
      .every((j) => fs.existsSync(j))
  )
    return `${classes}${path.delimiter}${jars()}`;

  const missing = () => ['java', 'javac', 'mvn'].filter((c) => !onPath(c));
  if (missing().length > 0 && process.getuid?.() === 0 && onPath('apt-get')) {
    log(`${missing().join(', ')} missing; installing a JDK and Maven with apt-get (running as root)`);
    await aptInstall('openjdk-17-jdk-headless');
    await aptInstall('maven');
  }
  if (missing().length > 0) {
    throw new StackError(
      `the embedded MongoDB server needs Java 17+ and Maven (${missing().join(', ')} not on PATH). ` +
        'Debian/Ubuntu: apt-get install -y openjdk-17-jdk-headless maven; or set MONGODB_URI to a running MongoDB.',
    );
  }
  log('fetching and compiling the embedded MongoDB server (once, cached) …');
  // Build into a temporary dir and rename: an interrupted build never leaves a half-built cache.
  const tmp = `${dir}.tmp-${process.pid}`;
  state.tmpFiles.add(tmp);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'classes'), { recursive: true });
  const quiet = { stdio: ['ignore', 'pipe', 'pipe'] };
  const collect = async (name, cmd, args, opts) => {
    const entry = start(name, cmd, args, { ...quiet, ...opts });
    let output = '';
    for (const stream of [entry.child.stdout, entry.child.stderr]) stream.on('data', (d) => (output += d));
    const { code, error } = await entry.done;
    if (state.stopping) throw new StackError('stopping');
    if (error || code !== 0) throw new StackError(`${name} failed:\n${error?.message ?? output.trimEnd()}`);
  };
  await collect('mvn', 'mvn', [
    '-q',
    '-B',
    '-f',
    path.join(MONGO_SRC, 'pom.xml'),
    'dependency:build-classpath',
    `-Dmdep.outputFile=${path.join(tmp, 'classpath.txt')}`,
  ]);
  const cp = fs.readFileSync(path.join(tmp, 'classpath.txt'), 'utf8').trim();
  await collect('javac', 'javac', [
    '-d',
    path.join(tmp, 'classes'),
    '-cp',
    cp,
    path.join(MONGO_SRC, 'EmbeddedMongo.java'),
  ]);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  state.tmpFiles.delete(tmp);
  for (const f of fs.readdirSync(cacheRoot)) {
    // Builds of older sources are never used again.
    if (/^[0-9a-f]{16}$/.test(f) && path.join(cacheRoot, f) !== dir)
      fs.rmSync(path.join(cacheRoot, f), { recursive: true, force: true });
  }
  return `${classes}${path.delimiter}${jars()}`;
}

/**
 * Starts the embedded server on a free loopback port. Resolves to its URI with `dbName`. Its pid
 * (the benchmark reads its CPU time) and classpath (the fault test starts a private one to pause)
 * go to the children as MONGO_SERVER_PID and MONGO_SERVER_CLASSPATH.
 */
async function startMongoServer(dbName) {
  const classpath = await mongoServerClasspath();
  const logFile = path.join(serviceDir(), 'mongo-server.log');
  const logFd = fs.openSync(logFile, 'a');
  // The bench stores a million signups (bench/analytics.ts): it asks for more (a machine of ours has 24 GiB);
  // with 6 GiB the million signups' 2.1 million documents kept the serial collector pausing for 11-15 s.
  const heap = process.env.MONGO_SERVER_HEAP || (dbName === 'allmine_bench' ? '12g' : '1g');
  const args = [`-Xmx${heap}`, '-XX:+UseSerialGC', '-cp', classpath, 'EmbeddedMongo', '0'];
  const entry = start('mongo-server', 'java', args, { stdio: ['ignore', 'pipe', logFd], tier: 1 });
  fs.closeSync(logFd);

  // The first stdout line is the URI. Wait for it, for an early exit, or for the timeout.
  let timer;
  const first = await Promise.race([
    new Promise((resolve) => {
      readline.createInterface({ input: entry.child.stdout }).once('line', (line) => resolve(line.trim()));
    }),
    entry.done.then(({ code, signal, error }) => ({
      why: error ? `could not start (${error.message})` : `exited before it was ready (${signal ?? `code ${code}`})`,
    })),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve({ why: 'did not print its URI within 60 s' }), 60_000);
    }),
  ]);
  clearTimeout(timer);
  if (state.stopping) throw new StackError('stopping');
  if (typeof first !== 'string') {
    state.keepLogs = true;
    throw new StackError(`the embedded MongoDB server ${first.why}. Log: ${logFile}\n${tail(logFile)}`);
  }
  entry.critical = true;
  mongoServer = { pid: entry.child.pid, classpath };
  const uri = new URL(first); // mongodb://127.0.0.1:PORT/ -> mongodb://127.0.0.1:PORT/<dbName>
  uri.pathname = `/${dbName}`;
  return uri.toString();
}
/** The embedded server this run started, if any: its pid and classpath go to the children (see startServices). */
let mongoServer;

// ------------------------------------------------------------------ Redis

async function ensureRedisServer() {
  if (onPath('redis-server')) return;
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    throw new StackError(
      'redis-server is not installed. Install it (Debian/Ubuntu: `sudo apt-get install -y ' +
        'redis-server`, macOS: `brew install redis`), or set REDIS_URL to a running Redis.',
    );
  }
  log('redis-server is missing; installing it with apt-get (running as root)');
  // The package may also start a system redis on port 6379; harmless, ours uses its own port.
  await aptInstall('redis-server');
  if (!onPath('redis-server')) throw new StackError('redis-server is still not on PATH after apt-get install');
}

let aptUpdated = false;
/** `apt-get install -y <pkg>`, after one `apt-get update` per run. */
async function aptInstall(pkg) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [...(aptUpdated ? [] : [['update']]), ['install', '-y', pkg]]) {
    const code = await run('apt-get', 'apt-get', args, { env });
    if (code !== 0) throw new StackError(`apt-get ${args.join(' ')} failed (exit ${code})`);
    if (args[0] === 'update') aptUpdated = true;
  }
}

/**
 * Start one redis-server on a free port, in its own data dir; resolves to the port once it answers PING.
 * `extraArgs(port)` adds arguments (the cluster options).
 */
async function startRedisNode(name, extraArgs = () => []) {
  const dir = path.join(serviceDir(), name);
  fs.mkdirSync(dir);
  const logFile = path.join(state.tmpDir, `${name}.log`);
  // The probed port can be taken before redis binds it; if redis exits at once, try another port.
  let why = 'exited before answering PING (3 tries)';
  for (let tries = 1; tries <= 3; tries++) {
    const port = await freePort();
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'no',
      '--dir',
      dir,
      ...(await extraArgs(port)),
    ];
    const logFd = fs.openSync(logFile, 'a');
    const entry = start(name, 'redis-server', args, { stdio: ['ignore', logFd, logFd], tier: 1 });
    fs.closeSync(logFd);
    let exited = false;
    void entry.done.then(() => (exited = true));
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline) {
      if (await redisPing(port)) {
        entry.critical = true;
        return port;
      }
      await sleep(100);
    }
    if (state.stopping) throw new StackError('stopping');
    if (!exited) {
      why = 'did not answer PING within 10 s';
      break; // hung rather than crashed: another port will not help
    }
  }
  state.keepLogs = true;
  throw new StackError(`redis-server (${name}) ${why}. Log: ${logFile}\n${tail(logFile)}`);
}

async function startRedis() {
  await ensureRedisServer();
  return `redis://127.0.0.1:${await startRedisNode('redis')}`;
}

/** `redisCommand` (scripts/net.mjs) for the cluster setup: a failure is reported without a stack. */
function redisCommand(port, ...args) {
  return rawRedisCommand(port, args).catch((err) => {
    throw new StackError(`redis on port ${port}: ${args[0]} failed: ${err.message}`);
  });
}

/**
 * A local Redis Cluster of three masters (no replicas), as `REDIS_CLUSTER=true` without a REDIS_URL
 * asks: three cluster-enabled redis-servers, each given a third of the 16384 slots, joined by CLUSTER MEET.
 * Resolves to the seed list for REDIS_URL once every node reports `cluster_state:ok`.
 */
async function startRedisCluster() {
  await ensureRedisServer();
  const MASTERS = 3;
  const nodes = [];
  for (let i = 0; i < MASTERS; i++) {
    let busPort;
    const port = await startRedisNode(`redis-cluster-${i + 1}`, async () => {
      busPort = await freePort(); // explicit: port + 10000 may not exist or be free
      return [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-port',
        String(busPort),
        '--cluster-node-timeout',
        '5000',
        '--cluster-announce-ip',
        '127.0.0.1',
      ];
    });
    nodes.push({ port, busPort });
  }
  const expectOk = (reply, what) => {
    if (reply !== '+OK') throw new StackError(`redis cluster setup: ${what} answered ${reply}`);
  };
  for (const [i, { port }] of nodes.entries()) {
    const first = Math.floor((16384 * i) / MASTERS);
    const last = Math.floor((16384 * (i + 1)) / MASTERS) - 1;
    expectOk(await redisCommand(port, 'CLUSTER', 'ADDSLOTSRANGE', first, last), `ADDSLOTSRANGE on ${port}`);
  }
  for (const { port, busPort } of nodes.slice(1)) {
    expectOk(await redisCommand(nodes[0].port, 'CLUSTER', 'MEET', '127.0.0.1', port, busPort), `MEET ${port}`);
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const infos = await Promise.all(nodes.map(({ port }) => redisCommand(port, 'CLUSTER', 'INFO')));
    if (
      infos.every((info) => /cluster_state:ok/.test(info) && new RegExp(`cluster_known_nodes:${MASTERS}\\b`).test(info))
    )
      break;
    if (state.stopping) throw new StackError('stopping');
    if (Date.now() > deadline)
      throw new StackError(`redis cluster did not reach cluster_state:ok within 30 s:\n${infos[0]}`);
    await sleep(100);
  }
  log(`redis cluster: ${MASTERS} masters on ports ${nodes.map((n) => n.port).join(', ')}`);
  return nodes.map(({ port }) => `redis://127.0.0.1:${port}`).join(',');
}

// ------------------------------------------------------------------ Chromium (the dashboard test)

const CHROMIUM = '/usr/bin/chromium';

/** The dashboard test drives Debian's Chromium through playwright-core (which never downloads a browser). */
async function ensureChromium() {
  if (isExecutable(CHROMIUM)) return;
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    log(
      `${CHROMIUM} is missing, so the dashboard test will be skipped. Install it (Debian/Ubuntu: ` +
        '`sudo apt-get install -y chromium`) to run it.',
    );
    return;
  }
  log('chromium is missing; installing it with apt-get (running as root)');
  await aptInstall('chromium');
  if (!isExecutable(CHROMIUM)) throw new StackError(`${CHROMIUM} is still missing after apt-get install`);
}

// ------------------------------------------------------------------ modes

async function startServices(dbName) {
  const { MONGODB_URI, REDIS_URL, NODE_ENV } = process.env;
  if ((!MONGODB_URI || !REDIS_URL) && NODE_ENV === 'production') {
    throw new StackError('NODE_ENV=production: refusing to start local services; set MONGODB_URI and REDIS_URL.');
  }
  const cluster = /^(true|1|yes)$/.test(process.env.REDIS_CLUSTER ?? '');
  const [mongo, redis] = await Promise.all([
    MONGODB_URI || startMongoServer(dbName),
    REDIS_URL || (cluster ? startRedisCluster() : startRedis()),
  ]);
  if (state.stopping) throw new StackError('stopping');
  return {
    MONGODB_URI: mongo,
    REDIS_URL: redis,
    ...(cluster && { REDIS_CLUSTER: 'true' }),
    ...(mongoServer && { MONGO_SERVER_PID: String(mongoServer.pid), MONGO_SERVER_CLASSPATH: mongoServer.classpath }),
  };
}

/** Start a node process whose output lines are prefixed with its name ("web | …"). */
function startPrefixed(name, args, env) {
  // The app shuts down gracefully within 25 s, so it gets 30 s before SIGKILL.
  const entry = start(name, process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], grace: 30_000 });
  const prefix = `${name.padEnd(6)} | `;
  for (const [input, out] of [
    [entry.child.stdout, process.stdout],
    [entry.child.stderr, process.stderr],
  ]) {
    readline.createInterface({ input }).on('line', (line) => out.write(`${prefix}${line}\n`));
  }
  return entry;
}

async function dev() {
  const nodeEnv = process.env.NODE_ENV || 'development';
  const services = await startServices('allmine_dev');
  const env = { ...process.env, ...services, NODE_ENV: nodeEnv };
  const release = await startPrefixed('release', ['--import', 'tsx', 'src/release.ts'], env).done;
  if (state.stopping) throw new StackError('stopping');
  if (release.code !== 0) {
    throw new StackError(`index setup (src/release.ts) failed (${release.signal ?? `exit ${release.code}`})`);
  }
  // tsx's watch mode restarts each process when a file it imports changes (SIGTERM, so a graceful stop).
  const tsxCli = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const watched = (entry) => [tsxCli, 'watch', '--clear-screen=false', entry];
  startPrefixed('web', watched('src/server.ts'), env).critical = true;
  startPrefixed('worker', watched('src/workers/index.ts'), env).critical = true;
  console.log(`
  allmine dev stack (NODE_ENV=${nodeEnv})
    app      http://localhost:${process.env.PORT || 3000}
    MongoDB  ${services.MONGODB_URI}
    Redis    ${services.REDIS_URL}
  Ctrl-C to stop.
`);
  return new Promise(() => {}); // until a signal, or web/worker exiting, calls shutdown()
}

async function test(mochaArgs) {
  // `npm test -- test/x.test.ts` runs that file alone, and quickly: no typecheck or lint (the whole run has them).
  const namesFiles = mochaArgs.some((a) => a.startsWith('test/') || a.startsWith('./test/'));
  if (process.env.SKIP_STATIC === '1' || namesFiles) {
    log(`${namesFiles ? 'test files named' : 'SKIP_STATIC=1'}: skipping typecheck, lint and format check`);
  } else {
    for (const [label, args] of [
      ['typecheck', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
      ['lint', ['eslint', '.']],
      ['format', ['prettier', '--check', '.']],
    ]) {
      const code = await run(label, 'npx', args);
      if (code !== 0) {
        console.error(`[stack] ${label} failed`);
        return code;
      }
      log(`${label} ok`);
    }
  }
  await ensureChromium();
  const env = { ...process.env, ...(await startServices('allmine_test')), NODE_ENV: 'test' };
  log(
    `MONGODB_URI=${env.MONGODB_URI} REDIS_URL=${env.REDIS_URL}${env.REDIS_CLUSTER ? ` REDIS_CLUSTER=${env.REDIS_CLUSTER}` : ''}`,
  );
  const deadlineMs = Number(process.env.TEST_DEADLINE_MINUTES || 40) * 60_000;
  const spec = namesFiles ? [] : ['test/**/*.test.ts']; // no file named: the whole suite
  return run('mocha', path.join(ROOT, 'node_modules', '.bin', 'mocha'), [...mochaArgs, ...spec], {
    env,
    grace: 10_000,
    deadlineMs,
  });
}

/** `npm run bench`: fresh services of its own, then bench/run.ts (flags pass through). */
async function bench(benchArgs) {
  const env = { ...process.env, ...(await startServices('allmine_bench')) };
  log(`MONGODB_URI=${env.MONGODB_URI} REDIS_URL=${env.REDIS_URL}`);
  return run('bench', process.execPath, ['--import', 'tsx', 'bench/run.ts', ...benchArgs], { env, grace: 30_000 });
}

// ------------------------------------------------------------------ the fuzzer's Python

const FUZZ_VENV = path.join(ROOT, '.cache', 'fuzz-venv');

/** `python -c <code>`'s output, or undefined when it fails. */
function pythonOutput(python, code) {
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * .cache/fuzz-venv with exactly fuzz/requirements.txt (schemathesis, pinned), (re)built when that file
 * or the Python changes. Debian's python3 lacks ensurepip; as root, python3-venv comes from apt-get.
 */
async function ensureFuzzVenv() {
  const python = ['python3', 'python'].find(onPath);
  if (!python)
    throw new StackError(
      'the fuzzer needs Python >= 3.11 (python3 is not on PATH). Debian/Ubuntu: apt-get install -y python3 python3-venv',
    );
  const version = pythonOutput(python, 'import sys; print("%d.%d" % sys.version_info[:2])');
  const [major, minor] = (version ?? '0.0').split('.').map(Number);
  if (major < 3 || (major === 3 && minor < 11))
    throw new StackError(`schemathesis needs Python >= 3.11; ${python} is ${version ?? 'unusable'}`);

  const requirements = path.join(ROOT, 'fuzz', 'requirements.txt');
  const marker = path.join(FUZZ_VENV, '.requirements-sha256');
  const wanted = createHash('sha256').update(fs.readFileSync(requirements)).update(version).digest('hex');
  const venvPython = path.join(FUZZ_VENV, 'bin', 'python');
  if (isExecutable(venvPython) && attempt(() => fs.readFileSync(marker, 'utf8'), '') === wanted) return FUZZ_VENV;

  log(`creating .cache/fuzz-venv (Python ${version}) and installing fuzz/requirements.txt`);
  const venv = () => run('python -m venv', python, ['-m', 'venv', '--clear', FUZZ_VENV]);
  if ((await venv()) !== 0) {
    if (process.getuid?.() !== 0 || !onPath('apt-get'))
      throw new StackError(`${python} -m venv failed. Debian/Ubuntu: apt-get install -y python3-venv`);
    log(`${python} -m venv failed; installing python3-venv with apt-get (running as root)`);
    await aptInstall('python3-venv');
    if ((await venv()) !== 0) throw new StackError(`${python} -m venv failed`);
  }
  const pip = await run('pip install', venvPython, [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--no-input',
    '-q',
    '-r',
    requirements,
  ]);
  if (pip !== 0) throw new StackError('pip install -r fuzz/requirements.txt failed');
  fs.writeFileSync(marker, wanted);
  return FUZZ_VENV;
}

/** `npm run fuzz`: the Python environment, fresh services of its own, then fuzz/run.mjs (flags pass through). */
async function fuzz(fuzzArgs) {
  const venv = await ensureFuzzVenv();
  const env = {
    ...process.env,
    ...(await startServices('allmine_fuzz')),
    FUZZ_WEB_PORT: String(await freePort()),
    FUZZ_VENV: venv,
  };
  log(`MONGODB_URI=${env.MONGODB_URI} REDIS_URL=${env.REDIS_URL}`);
  return run('fuzz', process.execPath, ['fuzz/run.mjs', ...fuzzArgs], { env, grace: 40_000 });
}

async function services() {
  const uris = await startServices('allmine_test');
  console.log(
    `MONGODB_URI=${uris.MONGODB_URI}\nREDIS_URL=${uris.REDIS_URL}${uris.REDIS_CLUSTER ? '\nREDIS_CLUSTER=true' : ''}`,
  );
  log('services running; Ctrl-C to stop');
  return new Promise(() => {});
}

async function main() {
  const [mode, ...rest] = process.argv.slice(2);
  const modes = { dev, test, services, bench, fuzz };
  if (!Object.hasOwn(modes, mode ?? '')) {
    console.error(USAGE);
    return 2;
  }
  process.chdir(ROOT);
  await ensureDependencies();
  return modes[mode](rest);
}

void main().then(
  (code) => shutdown(code),
  (err) => {
    if (!state.stopping) console.error(`[stack] ${err instanceof StackError ? err.message : err.stack}`);
    return shutdown(1);
  },
);
