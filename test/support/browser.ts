/**
 * Headless Chromium for page tests: Debian's `/usr/bin/chromium` driven by
 * playwright-core (which downloads no browser), with the flags this
 * machine's closed network needs, and a page that records console errors,
 * uncaught exceptions and CSP violations.
 */
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freshIp } from './auth.js';

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
