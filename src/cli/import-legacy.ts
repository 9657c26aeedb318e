import { realpathSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { createLedger, ledgerOptionsOf } from '../application/create-ledger.js';
import { emptyImportSummary, importLegacyRows, type LegacyImportSummary } from '../audit/import-legacy.js';
import { formatOfPath, LEGACY_FORMATS, LegacySourceError, openLegacySource, type LegacyFormat, type LegacySource } from '../audit/legacy-rows.js';
import { SESSION_STATUSES } from '../contract/index.js';
import { LedgerError } from '../ledger-error.js';
import { defineCommand, STORE_ENVIRONMENT, UsageError, type CliIo } from './command.js';

const isFormat = (format: string): format is LegacyFormat => (LEGACY_FORMATS as readonly string[]).includes(format);

const samePath = (a: string, b: string) => {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
};

/**
 * Brings a legacy mutable `auth_sessions` table into the ledger: per row, the events that
 * explain it (`src/audit/import-legacy.ts`), with ids derived from the row, so running it
 * again appends nothing.
 */
export const importLegacy = defineCommand({
  name: 'import-legacy',
  summary: 'append the events that explain each row of a legacy auth_sessions table (psql CSV or SQLite file)',
  positionals: { usage: '<file.csv|file.db>', min: 1, max: 1 },
  options: {
    format: { type: 'string', value: 'csv|sqlite', description: "the file's format, when its name does not say (.csv, .db, .sqlite)" },
    strict: { type: 'boolean', description: 'stop at the first row that cannot be explained, appending nothing for it or after it' },
    json: { type: 'boolean', description: 'print the summary as JSON' },
  },
  environment: [...STORE_ENVIRONMENT, 'LEDGER_PROVIDERS'],
  examples: ["psql -c \"\\copy auth_sessions to 'auth_sessions.csv' csv header\" && ledger import-legacy auth_sessions.csv", 'ledger import-legacy legacy.db --strict'],
  async run({ values, positionals }, io) {
    const { config } = io;
    const usage = (reason: string): never => {
      throw new UsageError(reason);
    };
    const file = positionals[0]!;
    const format = values.format ?? formatOfPath(file);
    if (format === null) return usage(`cannot tell the format of ${file} from its name: add --format csv or --format sqlite`);
    if (!isFormat(format)) return usage(`unknown format ${JSON.stringify(format)}: csv or sqlite`);
    const stats = statSync(file, { throwIfNoEntry: false });
    if (stats === undefined) return usage(`no such file: ${file}`);
    if (!stats.isFile()) return usage(`not a file: ${file}`);
    if (samePath(file, config.LEDGER_DB)) return usage(`${file} is the ledger's own database (LEDGER_DB), not a legacy table`);

    let source: LegacySource;
    try {
      source = await openLegacySource(file, format);
    } catch (error) {
      if (error instanceof LegacySourceError) return usage(error.message);
      throw error;
    }
    try {
      return await importInto(file, source, { strict: values.strict === true, json: values.json === true }, io);
    } finally {
      source.close();
    }
  },
});

async function importInto(file: string, source: LegacySource, flags: { strict: boolean; json: boolean }, io: CliIo): Promise<number> {
  const { config, out, err, clock } = io;
  const ledger = await createLedger(ledgerOptionsOf(config, clock));
  const progress = io.progress(`import-legacy ${basename(file)}`, source.total);
  const summary = emptyImportSummary();
  try {
    await importLegacyRows(ledger.store, source.reads(), { strict: flags.strict, onRead: (read) => progress.update(read.progress) }, summary);
  } catch (error) {
    // The store failed (unreachable, closed, …): what was appended stays, a new run resumes it.
    if (!(error instanceof LedgerError)) throw error;
    progress.stop(`import-legacy stopped after ${summary.rows} rows`);
    report(file, source, summary, flags.json, out);
    err(`import-legacy stopped: ${error.message}; running it again imports the rest`);
    return 1;
  } finally {
    await ledger.close();
  }
  progress.stop(`import-legacy: ${summary.rows} rows read from ${file}`);
  report(file, source, summary, flags.json, out);
  return summary.skipped.length === 0 ? 0 : 1;
}

function report(file: string, source: LegacySource, summary: LegacyImportSummary, json: boolean, out: (line: string) => void) {
  if (json) {
    out(JSON.stringify({ file, format: source.format, ...summary }));
    return;
  }
  const importedCount = SESSION_STATUSES.reduce((sum, status) => sum + summary.imported[status], 0);
  out(`${file} (${source.format}): ${summary.rows} rows read`);
  out(`imported: ${importedCount}`);
  for (const status of SESSION_STATUSES) out(`  ${status}: ${summary.imported[status]}`);
  out(`already imported: ${summary.alreadyImported}`);
  out(`skipped: ${summary.skipped.length}`);
  for (const skipped of summary.skipped) out(`  ${source.placeName} ${skipped.line}: ${skipped.reason}`);
  if (summary.stoppedAtFirstSkip) out(`stopped at the first skipped row (--strict): nothing was appended for it or for any row after it`);
}
