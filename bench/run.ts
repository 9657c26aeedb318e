// npm run bench: figures measured side by side in one run, on this machine. Not a test:
// nothing here asserts on time.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fold } from '../projections/index.js';
import type { NewEvent, RecordedEvent } from '../src/events/index.js';
import { openSqliteEventStore, type SynchronousMode } from '../src/store/sqlite/index.js';
import { benchAudit } from './audit.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
const APPENDS = Number(process.env.BENCH_APPENDS ?? 2000);

const metadata = () => ({ actor: { role: 'controller' as const, sub: 'bench' }, recordedAt: new Date().toISOString() });
const started = (sessionId: string): NewEvent => ({
  type: 'SessionStarted',
  eventId: randomUUID(),
  data: { sessionId, userId: 'user-1', provider: 'gemini', browserVmId: 'vm-1', expiresAt: '2030-01-01T00:00:00.000Z' },
  metadata: metadata(),
});
const stored = (sessionId: string): NewEvent => ({
  type: 'CredentialsStored',
  eventId: randomUUID(),
  data: { sessionId, provider: 'gemini', credentialRef: 'cred-1' },
  metadata: metadata(),
});

function report(label: string, count: number, ms: number) {
  console.log(`${label.padEnd(52)} ${String(count).padStart(7)} in ${ms.toFixed(0).padStart(6)} ms  ${(count / (ms / 1000)).toFixed(0).padStart(8)} /s`);
  return count / (ms / 1000);
}

async function appends(mode: SynchronousMode) {
  const store = openSqliteEventStore({ path: join(dir, `${mode}.db`), synchronous: mode });
  const events = Array.from({ length: APPENDS }, () => started(randomUUID()));
  const begin = performance.now();
  for (const event of events) await store.append(`authSession-${(event.data as { sessionId: string }).sessionId}`, [event]);
  const rate = report(`append, one event each, synchronous=${mode}`, APPENDS, performance.now() - begin);
  const retryBegin = performance.now();
  for (const event of events) await store.append(`authSession-${(event.data as { sessionId: string }).sessionId}`, [event]);
  report(`  the same appends retried (recognised, not written)`, APPENDS, performance.now() - retryBegin);
  await store.close();
  return rate;
}

const full = await appends('FULL');
const normal = await appends('NORMAL');
console.log(`  FULL / NORMAL append rate: ${(full / normal).toFixed(2)} (the price of surviving a power loss)`);

// Reading and folding one session, as the API will for every GET ?asOf= and every command.
const store = openSqliteEventStore({ path: join(dir, 'read.db'), synchronous: 'NORMAL' });
const ids = Array.from({ length: 500 }, () => randomUUID());
for (const id of ids) await store.append(`authSession-${id}`, [started(id), stored(id)]);
let begin = performance.now();
let streams: RecordedEvent[][] = [];
for (let round = 0; round < 4; round++) streams = await Promise.all(ids.map((id) => store.readStream(`authSession-${id}`)));
report('read one session stream', ids.length * 4, performance.now() - begin);
begin = performance.now();
let completed = 0;
for (let round = 0; round < 200; round++) for (const events of streams) completed += fold(events).status === 'completed' ? 1 : 0;
report('fold one session stream (2 events)', streams.length * 200, performance.now() - begin);
begin = performance.now();
let read = 0;
for (let after = 0n; ; ) {
  const page = await store.readAll({ after, category: 'authSession', maxCount: 1000 });
  if (page.length === 0) break;
  read += page.length;
  after = page.at(-1)!.position;
}
report('readAll by category, pages of 1000', read, performance.now() - begin);
await store.close();
console.log(`heap used at the end: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB; sessions folded completed: ${completed}`);

await benchAudit(dir, report);
rmSync(dir, { recursive: true, force: true });
