#!/usr/bin/env node
/**
 * Hostile-input proof (`npm run fuzz`; results in RELIABILITY.md, "Fuzzing"): schemathesis generates
 * requests for every operation of GET /openapi.json and checks every answer. The run fails on any
 * 5xx, any response that breaks the documented schema (status, body, content type, headers), any
 * other failed check, or fewer than 2,000 generated cases.
 *
 * `node scripts/stack.mjs fuzz` installs fuzz/requirements.txt (schemathesis, pinned) into
 * .cache/fuzz-venv once, starts fresh MongoDB-wire and Redis servers, and runs this with
 * MONGODB_URI, REDIS_URL, FUZZ_VENV and FUZZ_WEB_PORT set. This script:
 *   1. runs the index setup, then the web and the worker on a free port (NODE_ENV=test: console
 *      SMS, JSON mail, codes exposed in send-otp answers; send/verify limits raised, see FUZZ_ENV);
 *   2. signs up an analytics user and grants it `admin` with the operator command (grant-role);
 *   3. runs schemathesis with fuzz/hooks.py (real access tokens, state for success paths, two narrowed
 *      checks and one added, all explained there);
 *   4. prints a summary from schemathesis' event log and exits non-zero on any failure.
 *
 * Flags: --max-examples=N (per operation in the fuzzing phase, default 100), --seed=N (default
 * 20261128), --keep-report (keep the full event log, which holds the local run's responses).
 * Node built-ins only.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOOKS = path.join(ROOT, 'fuzz', 'hooks.py');
const REPORT_DIR = path.join(ROOT, '.cache', 'fuzz-report');
const MIN_CASES = 2000;

const args = process.argv.slice(2);
const flag = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const MAX_EXAMPLES = Number(flag('max-examples', 100));
const SEED = Number(flag('seed', 20261128));
const KEEP_REPORT = args.includes('--keep-report');

// Two fuzz users (Turkish mobile numbers that appear in no example of the document, so generated
// requests do not spend their codes): one for every JWT operation, one with `admin` for the reports.
const USER_PHONE = '5320000001';
const ADMIN_PHONE = '5320000002';

/**
 * The app's environment for the run. NODE_ENV=test: console SMS, JSON mail, and send-otp answers
 * carry the code (how the hooks log in; the server refuses this in production).
 * Raised, because every generated request comes from 127.0.0.1 and the document's examples reuse
 * one number: with the defaults (20 sends per IP per hour, 60 s resend cooldown, 10 verifies per
 * number per hour) send-otp and verify-otp would answer nothing but 429 after a few dozen cases and
 * nothing behind the limits would be fuzzed. 429 stays documented; the limits themselves are
 * tested in test/reliability.test.ts and test/send-otp.test.ts.
 * Also on: finalize-now (a feature flag, off by default) and username changes without the 30-day
 * wait, so those operations are fuzzed past their 403 / 409.
 */
const LIMIT = '1000000000';
const FUZZ_ENV = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'warn',
  SMS_PROVIDER: 'console',
  MAIL_TRANSPORT: 'json',
  OTP_EXPOSE_CODE: 'true',
  OTP_RESEND_COOLDOWN_SECONDS: '0',
  OTP_SEND_PER_NUMBER_HOUR: LIMIT,
  OTP_SEND_PER_NUMBER_DAY: LIMIT,
  OTP_SEND_PER_IP_HOUR: LIMIT,
  OTP_SEND_PER_COUNTRY_HOUR: LIMIT,
  OTP_VERIFY_PER_NUMBER_HOUR: LIMIT,
  OTP_VERIFY_PER_IP_HOUR: LIMIT,
  ACCOUNT_DELETION_FINALIZE_NOW: 'true',
  USERNAME_CHANGE_INTERVAL_DAYS: '0',
};

const log = (msg) => console.log(`[fuzz] ${msg}`);
class FuzzError extends Error {}

// ------------------------------------------------------------------ the app

const children = new Set();

/** Resolves with the child's exit (a failure to start counts as exit code 1). */
function exitOf(child) {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      console.error(`[fuzz] ${child.spawnfile}: ${error.message}`);
      resolve({ code: 1, signal: null });
    });
  });
}

/** Starts an entry point with tsx; its output goes to `<name>.log` in the report directory. */
function startApp(name, entry, env) {
  const logFile = path.join(REPORT_DIR, `${name}.log`);
  const fd = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: ROOT, env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const entryInfo = { name, child, logFile, exited: exitOf(child) };
  children.add(entryInfo);
  void entryInfo.exited.then(() => children.delete(entryInfo));
  return entryInfo;
}

async function stopApp(app) {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return;
  app.child.kill('SIGTERM');
  const timer = setTimeout(() => app.child.kill('SIGKILL'), 30_000);
  await app.exited;
  clearTimeout(timer);
}

async function waitReady(base, web) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (web.child.exitCode !== null)
      throw new FuzzError(`the web process exited (${web.child.exitCode}); see ${web.logFile}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new FuzzError(`the web process was not ready within 60 s; see ${web.logFile}`);
}

async function post(base, p, body) {
  const res = await fetch(`${base}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Signs the analytics user up (send-otp, verify-otp) and grants it `admin` with the operator command. */
async function makeAdmin(base, env) {
  const number = { countryCode: '90', phoneNumber: ADMIN_PHONE };
  const sent = await post(base, '/api/v1/auth/send-otp', number);
  if (sent.status !== 201 || !sent.body.data?.code)
    throw new FuzzError(`send-otp for the analytics user answered ${sent.status}`);
  const verified = await post(base, '/api/v1/auth/verify-otp', { ...number, code: sent.body.data.code });
  if (verified.status !== 200) throw new FuzzError(`verify-otp for the analytics user answered ${verified.status}`);
  const grant = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/grant-role.ts', `+90${ADMIN_PHONE}`, 'admin'],
    { cwd: ROOT, env, encoding: 'utf8' },
  );
  if (grant.status !== 0) throw new FuzzError(`grant-role failed: ${grant.stderr.trim()}`);
}

// ------------------------------------------------------------------ schemathesis

function schemathesisArgs(base, reportDir) {
  return [
    '--config-file',
    'fuzz/schemathesis.toml',
    'run',
    `${base}/openapi.json`,
    // Every check schemathesis has, but two that hooks.py replaces with narrowed versions
    // (negative_data_rejection_except_client_headers, positive_data_acceptance_except_contract_rules);
    // hooks.py also adds prepared_cases_succeed.
    '--checks',
    'all',
    '--exclude-checks',
    'negative_data_rejection,positive_data_acceptance',
    '--max-examples',
    String(MAX_EXAMPLES),
    '--seed',
    String(SEED),
    '--generation-database',
    'none',
    '--continue-on-failure',
    '--workers',
    '1',
    '--request-timeout',
    '30',
    '--no-color',
    '--report',
    'json,ndjson',
    '--report-dir',
    reportDir,
  ];
}

function runSchemathesis(base, env, venv) {
  const reportDir = path.join(REPORT_DIR, 'schemathesis');
  fs.rmSync(reportDir, { recursive: true, force: true });
  const st = path.join(venv, 'bin', 'schemathesis');
  const stArgs = schemathesisArgs(base, reportDir);
  log(`SCHEMATHESIS_HOOKS=fuzz/hooks.py ${path.relative(ROOT, st)} ${stArgs.join(' ')}`);
  const child = spawn(st, stArgs, {
    cwd: ROOT,
    env: {
      ...env,
      SCHEMATHESIS_HOOKS: HOOKS,
      FUZZ_BASE_URL: base,
      FUZZ_USER_PHONE: USER_PHONE,
      FUZZ_ADMIN_PHONE: ADMIN_PHONE,
      PYTHONUNBUFFERED: '1',
      // hypothesis' own caches (Unicode tables, constants), out of the work tree.
      HYPOTHESIS_STORAGE_DIRECTORY: path.join(ROOT, '.cache', 'fuzz-hypothesis'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  relayLines(child.stdout, process.stdout);
  relayLines(child.stderr, process.stderr);
  // Its last lines are relayed once its pipes close (at most 2 s after it exits).
  const drained = new Promise((resolve) => {
    child.once('close', resolve);
    child.once('exit', () => setTimeout(resolve, 2000).unref());
  });
  const entry = { name: 'schemathesis', child, exited: exitOf(child) };
  children.add(entry);
  return entry.exited.then(async ({ code, signal }) => {
    await drained;
    children.delete(entry);
    return { code: signal ? 1 : code, reportDir };
  });
}

/**
 * Shows schemathesis' output with its pytest-style banners (`===== 1 warning in 257.76s =====`) drawn with
 * dashes and the time in brackets: such a line closing a run reads as "a test runner ran no test" to
 * tools that scan CI logs for runners' summaries, while the run's count is this script's `fuzz:` line.
 */
function relayLines(input, output) {
  readline.createInterface({ input }).on('line', (line) => {
    const banner = /^=+ (.*?) =+$/.exec(line);
    const shown = banner ? `----- ${banner[1].replace(/ in ([\d.]+)s$/, ' (schemathesis, $1 s)')} -----` : line;
    output.write(`${shown}\n`);
  });
}

/** Reads schemathesis' event log (ndjson): every request it sent, its answer and its checks. */
async function summarize(reportDir) {
  const files = fs.readdirSync(reportDir);
  const ndjson = files.find((f) => f.startsWith('ndjson-'));
  const json = files.find((f) => f.startsWith('json-'));
  if (!ndjson || !json) throw new FuzzError(`schemathesis wrote no report in ${reportDir}`);
  const report = JSON.parse(fs.readFileSync(path.join(reportDir, json), 'utf8'));
  const perOperation = new Map(); // label -> { requests, statuses: Map }
  const checks = new Map(); // name -> { passed, failed }
  const phases = new Map();
  let requests = 0;
  let serverErrors = 0;
  const lines = readline.createInterface({ input: fs.createReadStream(path.join(reportDir, ndjson)) });
  for await (const line of lines) {
    if (!line.startsWith('{"ScenarioFinished"')) continue;
    const { recorder, phase } = JSON.parse(line).ScenarioFinished;
    const op = perOperation.get(recorder.label) ?? { requests: 0, statuses: new Map() };
    perOperation.set(recorder.label, op);
    for (const interaction of Object.values(recorder.interactions ?? {})) {
      const status = interaction.response?.status_code ?? 'no answer';
      requests++;
      op.requests++;
      op.statuses.set(status, (op.statuses.get(status) ?? 0) + 1);
      phases.set(phase, (phases.get(phase) ?? 0) + 1);
      if (typeof status !== 'number' || status >= 500) serverErrors++;
    }
    for (const results of Object.values(recorder.checks ?? {})) {
      for (const { name, status } of results) {
        const c = checks.get(name) ?? { passed: 0, failed: 0 };
        if (status === 'failure') c.failed++;
        else if (status === 'success') c.passed++;
        checks.set(name, c);
      }
    }
  }
  if (!KEEP_REPORT) fs.rmSync(path.join(reportDir, ndjson), { force: true });
  return { report, perOperation, checks, phases, requests, serverErrors };
}

function printSummary(s, stExit) {
  const generated = s.report.test_cases?.generated ?? 0;
  const failedChecks = [...s.checks].filter(([, c]) => c.failed > 0);
  const schemaViolations = [
    'response_schema_conformance',
    'status_code_conformance',
    'content_type_conformance',
    'response_headers_conformance',
  ].reduce((n, name) => n + (s.checks.get(name)?.failed ?? 0), 0);
  const rows = [...s.perOperation].sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log('\n# fuzz summary');
  console.log(`schemathesis ${s.report.schemathesis_version}, seed ${SEED}, --max-examples ${MAX_EXAMPLES}`);
  console.log(
    `test cases generated: ${generated} (minimum ${MIN_CASES}); requests sent: ${s.requests} (${[...s.phases].map(([p, n]) => `${p} ${n}`).join(', ')})`,
  );
  console.log(`operations: ${s.report.operations?.tested ?? 0} tested of ${s.report.operations?.total ?? 0}`);
  for (const [label, op] of rows) {
    const statuses = [...op.statuses]
      .sort(([a], [b]) => String(a).localeCompare(String(b)))
      .map(([k, v]) => `${k}×${v}`)
      .join(' ');
    console.log(`  ${label.padEnd(width)}  ${String(op.requests).padStart(5)}  ${statuses}`);
  }
  console.log(`5xx responses: ${s.serverErrors}`);
  console.log(`responses breaking the documented schema (body, status, content type, headers): ${schemaViolations}`);
  console.log(
    `checks: ${[...s.checks].map(([name, c]) => `${name} ${c.failed ? `${c.failed} FAILED` : 'ok'} (${c.passed + c.failed})`).join(', ')}`,
  );
  const errors = s.report.errors?.reduce((n, e) => n + (e.count ?? 1), 0) ?? 0;
  const problems = [];
  if (stExit !== 0) problems.push(`schemathesis exited ${stExit}`);
  if (s.serverErrors > 0) problems.push(`${s.serverErrors} 5xx responses`);
  if (schemaViolations > 0) problems.push(`${schemaViolations} schema violations`);
  if (failedChecks.length > 0) problems.push(`failed checks: ${failedChecks.map(([n]) => n).join(', ')}`);
  if (errors > 0) problems.push(`${errors} schemathesis errors`);
  if (generated < MIN_CASES)
    problems.push(`only ${generated} cases generated (need ${MIN_CASES}; raise --max-examples)`);
  if ((s.report.operations?.tested ?? 0) < (s.report.operations?.total ?? 1))
    problems.push('not every operation was tested');
  // One plain count line for CI (.ci/run adds it to the suites'): every check run on every case; a
  // failure that is not a failed check (a 5xx is one, too few cases is not) counts once more.
  const checkRuns = [...s.checks.values()].reduce(
    (t, c) => ({ passed: t.passed + c.passed, failed: t.failed + c.failed }),
    { passed: 0, failed: 0 },
  );
  const otherProblems = problems.length - (failedChecks.length > 0 ? 1 : 0);
  console.log(`fuzz: ${checkRuns.passed} passed, ${checkRuns.failed + otherProblems} failed`);
  console.log(problems.length ? `RESULT: FAIL (${problems.join('; ')})` : 'RESULT: PASS');
  return problems.length ? 1 : 0;
}

/** Log lines of level error or worse (pino: 50+) in an app log, e.g. "unhandled error". */
function errorLines(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((line) => {
    try {
      return JSON.parse(line).level >= 50;
    } catch {
      return false;
    }
  });
}

// ------------------------------------------------------------------ main

async function main() {
  if (!process.env.MONGODB_URI || !process.env.REDIS_URL) {
    throw new FuzzError(
      'MONGODB_URI and REDIS_URL must be set: run `npm run fuzz` (node scripts/stack.mjs fuzz), which starts both',
    );
  }
  if (!Number.isInteger(MAX_EXAMPLES) || MAX_EXAMPLES < 1 || !Number.isInteger(SEED))
    throw new FuzzError('--max-examples and --seed take integers');
  // scripts/stack.mjs builds the Python environment (fuzz/requirements.txt) and names it.
  const venv = process.env.FUZZ_VENV;
  if (!venv || !fs.existsSync(path.join(venv, 'bin', 'schemathesis')))
    throw new FuzzError('FUZZ_VENV is not set or has no schemathesis; run this through `npm run fuzz`');
  fs.mkdirSync(REPORT_DIR, { recursive: true });

  // scripts/stack.mjs hands us a free loopback port for the web.
  const port = Number(process.env.FUZZ_WEB_PORT);
  if (!Number.isInteger(port) || port <= 0)
    throw new FuzzError('FUZZ_WEB_PORT is not set; run this through `npm run fuzz`');
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, ...FUZZ_ENV, PORT: String(port) };
  const release = startApp('release', 'src/release.ts', env);
  const { code } = await release.exited;
  if (code !== 0) throw new FuzzError(`index setup failed (exit ${code}); see ${release.logFile}`);
  const web = startApp('web', 'src/server.ts', env);
  const worker = startApp('worker', 'src/workers/index.ts', env);
  try {
    await waitReady(base, web);
    log(`web on ${base} (NODE_ENV=test, limits raised: see fuzz/run.mjs); worker running`);
    await makeAdmin(base, env);
    const st = await runSchemathesis(base, env, venv);
    const summary = await summarize(st.reportDir);
    let exit = printSummary(summary, st.code);
    for (const app of [web, worker]) {
      const lines = errorLines(app.logFile);
      if (lines.length) {
        console.log(
          `${app.name}: ${lines.length} error log lines (first: ${lines[0].slice(0, 300)}); full log: ${app.logFile}`,
        );
        exit = 1;
      } else {
        console.log(`${app.name}: no error log lines`);
      }
    }
    return exit;
  } finally {
    await Promise.all([web, worker].map(stopApp));
  }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const c of children) c.child.kill('SIGTERM');
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[fuzz] ${err instanceof FuzzError ? err.message : err.stack}`);
    for (const c of children) c.child.kill('SIGTERM');
    process.exit(1);
  },
);
