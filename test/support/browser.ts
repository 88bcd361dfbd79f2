/**
 * Headless Chromium for page tests: Debian's `/usr/bin/chromium` driven by
 * playwright-core (which downloads no browser), with the flags this
 * machine's closed network needs, and a page that records console errors,
 * uncaught exceptions and CSP violations.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { eventually, freshIp } from './auth.js';
import { startApp, type TestServer } from './http.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Screenshots go here (git-ignored). */
export const OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));

/** What the browser reported: console errors, uncaught exceptions, CSP violations. */
export interface PageProblems {
  console: string[];
  pageErrors: string[];
  csp: string[];
}

/**
 * For a page suite's `before`: the app on a loopback port (TRUST_PROXY on: each browser context sends its
 * own client address) and Chromium; the suite is skipped when Debian's chromium is missing. The suite's
 * `after` closes both.
 */
export async function startPageTest(ctx: Mocha.Context, what: string): Promise<{ srv: TestServer; browser: Browser }> {
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`    ${CHROMIUM} is missing: skipping ${what} (apt-get install -y chromium)`);
    ctx.skip();
  }
  const srv = await startApp({ TRUST_PROXY: 'true' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  fs.mkdirSync(OUTPUT, { recursive: true });
  return { srv, browser };
}

/** A fresh context (and client address: per-IP limits live in Redis for the whole run) with one page. */
export async function openPage(
  browser: Browser,
  options: Parameters<Browser['newContext']>[0] = {},
): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    reducedMotion: 'reduce', // no chart animation: stable screenshots
    extraHTTPHeaders: { 'x-forwarded-for': freshIp() },
    ...options,
  });
  const page = await context.newPage();
  const problems: PageProblems = { console: [], pageErrors: [], csp: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.console.push(msg.text());
  });
  page.on('pageerror', (err) => problems.pageErrors.push(String(err)));
  await page.exposeFunction('__reportCspViolation', (v: string) => problems.csp.push(v));
  // Runs before the page's scripts, outside the page's CSP.
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) =>
    window.__reportCspViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));`);
  return { context, page, problems };
}

/**
 * Signs in through a dashboard page's sign-in card; the test server puts the code in send-otp's answer
 * and the page prefills it.
 */
export async function signInWithCode(page: Page, phone: { countryCode: string; phoneNumber: string }): Promise<void> {
  await page.getByLabel('Country code').fill(phone.countryCode);
  await page.getByLabel('Phone number').fill(phone.phoneNumber);
  await page.getByRole('button', { name: 'Send code' }).click();
  const code = page.getByLabel('Code', { exact: true });
  await code.waitFor({ state: 'visible' });
  await eventually(async () => /^\d{4}$/.test(await code.inputValue()), 10_000, 'the code prefilled');
  await page.getByRole('button', { name: 'Verify and sign in' }).click();
}
