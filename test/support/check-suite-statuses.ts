/**
 * tap's `after` script (.taprc): every status a route answered anywhere in the test run must be
 * one its OpenAPI document declares. Reads the reports each served ledger left as it closed
 * (see suite-statuses.ts), says which statuses were not declared and by which test files, and
 * exits 1 if any were: tap then fails the run. Removes the reports, this run's and any older.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runPrefix, SUITE_STATUSES_DIR, type SuiteStatusReport } from './suite-statuses.js';

const files = existsSync(SUITE_STATUSES_DIR) ? readdirSync(SUITE_STATUSES_DIR) : [];
const reports = files
  .filter((file) => file.startsWith(runPrefix(process.ppid)))
  .map((file) => JSON.parse(readFileSync(join(SUITE_STATUSES_DIR, file), 'utf8')) as SuiteStatusReport);
rmSync(SUITE_STATUSES_DIR, { recursive: true, force: true });

/** Each undeclared status, with the test files that saw it answered. */
const seen = new Map<string, Set<string>>();
for (const { test, undeclared } of reports) {
  for (const status of undeclared) seen.set(status, (seen.get(status) ?? new Set()).add(relative(process.cwd(), test)));
}

if (seen.size > 0) {
  console.error('Statuses answered in the tests that the OpenAPI document does not declare (declare them, or find why the route answers them):');
  for (const [status, tests] of [...seen].sort()) console.error(`  ${status}  (seen in ${[...tests].sort().join(', ')})`);
  process.exit(1);
}
console.log(`# answered statuses: ${reports.length} served ledger(s) reported; the OpenAPI document declares every one they answered`);
