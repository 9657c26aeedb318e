import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { compareStatuses, undeclared } from './answered-statuses.js';
import type { OpenApiDocument } from './openapi.js';

// Across the whole suite: each ledger a test serves reports, as it closes, the statuses its
// operations answered that its OpenAPI document does not declare; after the last test, tap's
// `after` script (check-suite-statuses.ts) gathers the reports and fails the run on any.

/** Set (by .taprc's `test-env`) in the processes tap runs tests in: a test run by hand reports nothing. */
export const SUITE_STATUSES_ENV = 'TEST_SUITE_STATUSES';

/** Where the reports are kept until the `after` script has read them. */
export const SUITE_STATUSES_DIR = fileURLToPath(new URL('../../.tap/suite-statuses/', import.meta.url));

/** What one ledger reports. */
export interface SuiteStatusReport {
  /** The test file that served it. */
  test: string;
  /** `METHOD /path status` for each status answered and not declared. */
  undeclared: string[];
}

/**
 * The prefix of this tap run's reports: tap's runner is the parent of every test process and
 * of the `after` script, so a report left by a run that was cut short is not taken for this one's.
 */
export const runPrefix = (runnerPid: number) => `run-${runnerPid}-`;

/** Under tap, reports the app's undeclared answers when it closes, for `check-suite-statuses.ts`. */
export function reportToTheSuite(app: FastifyInstance, answered: () => Map<string, number[]>) {
  if (process.env[SUITE_STATUSES_ENV] !== '1') return;
  // onClose: after the server has ended every answer, a watch left open included.
  app.addHook('onClose', async (instance) => {
    // The document is no answer of the contract: read as what it claims to be.
    const document = instance.swagger() as unknown as OpenApiDocument;
    const report: SuiteStatusReport = { test: process.argv[1] ?? 'unknown', undeclared: undeclared(compareStatuses(answered(), document)) };
    mkdirSync(SUITE_STATUSES_DIR, { recursive: true });
    writeFileSync(join(SUITE_STATUSES_DIR, `${runPrefix(process.ppid)}${randomUUID()}.json`), JSON.stringify(report));
  });
}
