import { createPublicKey, type KeyObject } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { z } from 'zod';
import { createLedger, ledgerOptionsOf } from '../application/create-ledger.js';
import { SealsDocument, type Seal } from '../contract/index.js';
import { exportIsClean, verifyExport, type ExportReport } from '../audit/verify-export.js';
import { verifyLedger, type VerifyReport } from '../audit/verify.js';
import { defineCommand, STORE_ENVIRONMENT, UsageError, type CliIo } from './command.js';

/** The seals file and the auditor's copy of the public key, read and checked, or the reason they cannot be. */
function readSeals(sealsFile: string, publicKeyFile: string): { seals: Seal[]; publicKey: KeyObject } | { failure: string } {
  try {
    const document = SealsDocument.parse(JSON.parse(readFileSync(sealsFile, 'utf8')));
    return { seals: document.seals, publicKey: createPublicKey(readFileSync(publicKeyFile, 'utf8')) };
  } catch (error) {
    return { failure: error instanceof z.ZodError ? `${sealsFile} is not a seals document: ${z.prettifyError(error)}` : (error as Error).message };
  }
}

function printReport(report: VerifyReport, out: (line: string) => void): void {
  out(`checked ${report.checked} sessions, ${report.events} events, against the read model as of position ${report.position}`);
  out(`differences: ${report.differences.length}`);
  for (const d of report.differences) out(`  ${d.sessionId} ${d.column}: read model ${d.readModel}, fold ${d.fold}`);
  out(`chain breaks: ${report.chainBreaks.length}`);
  for (const b of report.chainBreaks) out(`  ${b.sessionId} at revision ${b.revision} (${b.reason === 'hash' ? 'the hash does not match' : 'a revision is missing or out of place'})`);
  if (report.outcomeDifferences !== undefined) {
    out(`session_outcomes differences: ${report.outcomeDifferences.length}`);
    for (const d of report.outcomeDifferences) {
      out(`  ${d.hour} ${d.provider ?? '(no provider)'} ${d.status}${d.failureReason ? ` (${d.failureReason})` : ''}: read model ${d.readModel}, fold ${d.fold}`);
    }
  }
  if (report.undecodable.length > 0) {
    out(`undecodable events: ${report.undecodable.length}`);
    for (const u of report.undecodable) out(`  ${u.sessionId} at revision ${u.revision}: ${u.reason}`);
  }
  if (report.seals) {
    const { checked, broken } = report.seals;
    if (broken === null) out(`seals: ${checked} checked, every one holds`);
    else {
      const streams = broken.streams.length > 0 ? `; streams it found trouble in: ${broken.streams.join(', ')}` : '';
      out(`seals: ${checked} checked; seal #${broken.index + 1} (position ${broken.position}, sealed at ${broken.sealedAt}) no longer holds: ${describeSeal[broken.reason]}${streams}`);
    }
  }
  out(report.clean ? 'clean' : 'NOT clean');
}

const describeSeal = {
  signature: 'its signature does not verify with this public key',
  chain: 'it does not follow the seal before it',
  heads: 'the log no longer gives the heads it signed',
};

function printExportReport(report: ExportReport, out: (line: string) => void): void {
  out(`checked ${report.events} events of ${report.streams} streams (${report.unanchored} starting after their first event, whose first link was taken as given)`);
  out(`chain breaks: ${report.chainBreaks.length}`);
  for (const b of report.chainBreaks) out(`  ${b.streamName} at revision ${b.revision} (${b.reason})`);
  if (report.malformed.length > 0) {
    out(`malformed lines: ${report.malformed.length}`);
    for (const m of report.malformed) out(`  line ${m.line}: ${m.reason}`);
  }
  out(exportIsClean(report) ? 'clean' : 'NOT clean');
}

async function verifyAnExport(file: string, json: boolean, { out, err }: CliIo): Promise<number> {
  let report: ExportReport;
  try {
    report = await verifyExport(createReadStream(file));
  } catch (error) {
    err(`cannot read ${file}: ${(error as Error).message}`);
    return 2;
  }
  if (json) out(JSON.stringify(report, null, 2));
  else printExportReport(report, out);
  return exportIsClean(report) ? 0 : 1;
}

/**
 * The auditor's check: the read model is nothing but the fold of the log, no stream's hash
 * chain is broken, and (given seals) the log still is what was sealed. Exit 0 when clean,
 * 1 on anything found, 2 on a usage error.
 */
export const verify = defineCommand({
  name: 'verify',
  summary: 'fold every stream afresh and compare with the read model, check every hash chain and, given them, the seals; or check an export offline',
  options: {
    json: { type: 'boolean', description: 'print the report as JSON' },
    export: { type: 'string', value: '<file>', description: 'check an export (ledger export) offline instead of the database' },
    seals: { type: 'string', value: '<file>', description: 'also check these seals (ledger seal --list) against the log; needs --public-key' },
    'public-key': { type: 'string', value: '<file>', description: "the auditor's copy of the sealing key's public half" },
  },
  environment: [...STORE_ENVIRONMENT, 'LEDGER_SEAL_KEY_FILE'],
  examples: ['ledger verify', 'ledger verify --seals seals.json --public-key seal-key.pem.pub', 'ledger verify --export ledger-export.ndjson'],
  async run({ values }, io) {
    const { config, out, err, clock, progress } = io;
    const { json = false, export: exportFile, seals: sealsFile, 'public-key': publicKeyFile } = values;
    if ((sealsFile === undefined) !== (publicKeyFile === undefined)) throw new UsageError('--seals and --public-key go together');
    if (exportFile !== undefined && sealsFile !== undefined) throw new UsageError('--export checks a file offline; seals are checked against the log');
    if (exportFile !== undefined) return verifyAnExport(exportFile, json, io);
    let seals;
    if (sealsFile !== undefined && publicKeyFile !== undefined) {
      const read = readSeals(sealsFile, publicKeyFile);
      if ('failure' in read) {
        err(read.failure);
        return 2;
      }
      seals = read;
    }

    const ledger = await createLedger(ledgerOptionsOf(config, clock, undefined, 'read-only'));
    try {
      const bar = progress('verify', ledger.readModel.countSessions());
      const report = await verifyLedger({
        store: ledger.store,
        readModel: ledger.readModel,
        outcomes: ledger.outcomes,
        seals,
        onProgress: (done, total) => bar.update(done, total),
      });
      bar.stop(`verified ${report.checked} sessions`);
      if (json) out(JSON.stringify(report, null, 2));
      else printReport(report, out);
      return report.clean ? 0 : 1;
    } finally {
      await ledger.close();
    }
  },
});
