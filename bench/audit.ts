// The auditors' operations over a large log: verify and export rates, each with its peak RSS,
// measured in a process of its own. BENCH_AUDIT_EVENTS sets the size (default 1,000,000).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createLedger } from '../src/application/create-ledger.js';
import type { NewEvent } from '../src/events/index.js';
import { openSqliteEventStore } from '../src/store/sqlite/index.js';

const EVENTS_PER_SESSION = 4;

export async function benchAudit(dir: string, report: (label: string, count: number, ms: number) => void): Promise<void> {
  const total = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
  const path = join(dir, 'audit.db');
  const sessions = Math.ceil(total / EVENTS_PER_SESSION);
  // Written as fast as the store goes (no fsync): the setup, not what is measured.
  const store = openSqliteEventStore({ path, synchronous: 'OFF' });
  const metadata = { actor: { role: 'controller' as const, sub: 'bench' }, recordedAt: new Date().toISOString() };
  let begin = performance.now();
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
  report(`append ${EVENTS_PER_SESSION} events a session (setup, synchronous=OFF)`, sessions * EVENTS_PER_SESSION, performance.now() - begin);
  await store.close();

  const ledger = await createLedger({ store: { kind: 'sqlite', path }, providers: ['gemini'] });
  begin = performance.now();
  ledger.start();
  await ledger.projector.waitForPosition(await ledger.store.lastPosition(), 3_600_000);
  report('project into the read model (setup)', sessions * EVENTS_PER_SESSION, performance.now() - begin);
  await ledger.close();

  const child = fileURLToPath(new URL('./audit-child.js', import.meta.url));
  for (const operation of ['verify', 'export'] as const) {
    const line = execFileSync(process.execPath, [child, operation, path], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const result = JSON.parse(line) as { events: number; ms: number; clean?: boolean; maxRssMiB: number };
    report(`${operation} (its own process)`, result.events, result.ms);
    console.log(`  peak RSS of ${operation}: ${result.maxRssMiB.toFixed(0)} MiB${result.clean === undefined ? '' : `; clean: ${result.clean}`}`);
  }
}
