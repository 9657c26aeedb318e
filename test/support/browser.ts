import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Test } from 'tap';
import { serveLedger } from './served-ledger.js';

/** Debian's Chromium, which `.ci/run` installs with apt when it is missing. */
export const CHROMIUM = process.env.LEDGER_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why the browser tests cannot run here, or false when they can. Without Chromium a
 * developer's `npm test` skips them and says why; CI sets LEDGER_REQUIRE_BROWSER=1, and there
 * a missing browser fails the run instead.
 */
export function browserUnavailable(): string | false {
  if (existsSync(CHROMIUM)) return false;
  const why = `no Chromium at ${CHROMIUM}: install it (apt-get install chromium) to run the browser tests`;
  if (process.env.LEDGER_REQUIRE_BROWSER === '1') throw new Error(why);
  return why;
}

/**
 * Headless Chromium, with nothing of its own reaching out to the network (this machine's
 * network is closed, and a test talks to 127.0.0.1 only).
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60_000,
  });
}

/**
 * What a page said that it should not have: uncaught errors, and console errors other than
 * the browser's own note of a refused request (which a test provokes on purpose).
 */
export function pageComplaints(page: Page): string[] {
  const complaints: string[] = [];
  page.on('pageerror', (error) => complaints.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) complaints.push(message.text());
  });
  return complaints;
}

/**
 * What a browser test runs against: a real `ledger serve`, whose watches stay open after
 * `failed` for longer than the test (a grace period of 120 s), and a browser; both end with
 * the test file.
 */
export async function ledgerAndBrowser(t: Test) {
  const ledger = await serveLedger({ LEDGER_WATCH_GRACE_MS: '120000' });
  t.teardown(() => ledger.stop());
  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  return { ledger, browser };
}
