// audit: the auditors' operations over a large log, verify and export, each in a process of
// its own: its rate and its peak RSS (what an auditor's machine must have).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createLedger } from '../src/application/create-ledger.js';
import type { NewEvent } from '../src/events/index.js';
import { openSqliteEventStore } from '../src/store/sqlite/index.js';
import type { AuditResult } from './audit-child.js';
import { spawnChild } from './child.js';
import type { Figure, Scenario, ScenarioContext } from './figure.js';

const EVENTS_PER_SESSION = 4;

/** Writes `sessions` sessions of four events each, then projects them, as a served ledger would have. */
async function writeLog(path: string, sessions: number): Promise<void> {
  // As fast as the store goes (no fsync): the setup, not what is measured.
  const store = openSqliteEventStore({ path, synchronous: 'OFF' });
  const metadata = { actor: { role: 'controller' as const, sub: 'bench' }, recordedAt: new Date().toISOString() };
  for (let i = 0; i < sessions; i++) {
    const sessionId = `bench-${i}`;
    const events: NewEvent[] = [
      { type: 'SessionStarted', eventId: randomUUID(), metadata, data: { sessionId, userId: `user-${i % 1000}`, provider: 'gemini', browserVmId: `vm-${i}`, expiresAt: '2030-01-01T00:00:00.000Z' } },
      { type: 'VmDestroyed', eventId: randomUUID(), metadata, data: { sessionId, vmId: `vm-${i}`, reason: 'VM crashed' } },
      { type: 'CredentialsStored', eventId: randomUUID(), metadata, data: { sessionId, provider: 'gemini', credentialRef: `cred-${i}` } },
      { type: 'VmDestroyed', eventId: randomUUID(), metadata, data: { sessionId, vmId: `vm-${i}`, reason: 'clean-up' } },
    ];
    await store.append(`authSession-${sessionId}`, events);
  }
  await store.close();
  const ledger = await createLedger({ store: { kind: 'sqlite', path }, providers: ['gemini'] });
  ledger.start();
  await ledger.projector.waitForPosition(await ledger.store.lastPosition(), 3_600_000);
  await ledger.close();
}

/** One audit operation in its own process; what it printed. */
async function audited(operation: AuditResult['operation'], path: string): Promise<AuditResult> {
  const child = spawnChild('audit', [operation, path]);
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => void (stdout += chunk));
  const code = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('exit', resolve));
  const line = stdout.split('\n').findLast((candidate) => candidate.startsWith('{'));
  if (code !== 0 || line === undefined) throw new Error(`the ${operation} process exited with ${code}: ${stdout.slice(-500)}`);
  return JSON.parse(line) as AuditResult;
}

async function run({ quick, dir, log }: ScenarioContext): Promise<Figure[]> {
  const events = quick ? 2_000 : 250_000;
  const path = join(dir, 'audit.db');
  log(`writing and projecting ${events} events`);
  await writeLog(path, Math.ceil(events / EVENTS_PER_SESSION));
  const figures: Figure[] = [];
  for (const operation of ['verify', 'export'] as const) {
    log(operation);
    const result = await audited(operation, path);
    const over = `over ${result.events} events`;
    figures.push(
      {
        scenario: 'audit',
        name: `${operation}, its own process`,
        value: result.events / (result.ms / 1000),
        unit: 'events/s',
        note: result.clean === undefined ? over : `${over}; clean: ${result.clean}`,
      },
      { scenario: 'audit', name: `${operation}, peak RSS`, value: result.maxRssMiB, unit: 'MiB' },
    );
  }
  return figures;
}

export const auditScenario: Scenario = { name: 'audit', run };
