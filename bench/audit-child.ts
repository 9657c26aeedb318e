// The `audit` child role: one audit operation over a ledger file, in a process of its own so
// its peak RSS is its own: `verify` or `export` (to /dev/null, through the same streaming as
// the command). Prints one JSON line: what it did, how long it took, and its peak RSS.
import { createWriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createLedger } from '../src/application/create-ledger.js';
import { exportPages } from '../src/audit/export.js';
import { verifyLedger } from '../src/audit/verify.js';

/** The line an `audit` child prints. */
export interface AuditResult {
  operation: 'verify' | 'export';
  events: number;
  ms: number;
  clean?: boolean;
  maxRssMiB: number;
}

/** `audit <verify|export> <ledger file>` */
export async function auditChild([operation, path]: string[]): Promise<void> {
  if ((operation !== 'verify' && operation !== 'export') || path === undefined) throw new Error('usage: --child audit <verify|export> <file>');
  const ledger = await createLedger({ store: { kind: 'sqlite', path }, providers: ['gemini'] });
  const begin = performance.now();
  let events = 0;
  let clean: boolean | undefined;
  if (operation === 'verify') {
    const report = await verifyLedger({ store: ledger.store, readModel: ledger.readModel, outcomes: ledger.outcomes });
    events = report.events;
    clean = report.clean;
  } else {
    const pages = exportPages(ledger.store);
    await pipeline(
      Readable.from(
        (async function* () {
          for await (const page of pages) {
            events += page.split('\n').length - 1;
            yield page;
          }
        })(),
        { highWaterMark: 1 },
      ),
      createWriteStream('/dev/null'),
    );
  }
  const ms = performance.now() - begin;
  await ledger.close();
  const result: AuditResult = { operation, events, ms, clean, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
  console.log(JSON.stringify(result));
}
