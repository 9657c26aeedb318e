/**
 * The projector killed again and again while it catches up a large backlog: each run resumes
 * from the checkpoint the last one committed, and the read model always equals a fresh fold
 * of the log up to its checkpoint, so no event is ever applied twice or skipped. The kill
 * moments are seeded (CHAOS_SEED replays them); CHAOS_ROUNDS × 2 kills (6 by default,
 * 40 in `npm run test:chaos`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { sessionStreamName, type NewEvent } from '../../src/events/index.js';
import { projectAll } from '../../src/projector/project-events.js';
import { createProjector } from '../../src/projector/projector.js';
import { openSqliteEventStore } from '../../src/store/sqlite/index.js';
import { newCredentialsStored, newSessionCancelled, newSessionFailed, newSessionStarted, newVmDestroyed } from '../support/events.js';
import { bundleLedger } from '../support/ledger-bundle.js';
import { checkpointOf, compareWithFold, sessionEvents } from '../support/read-model-check.js';
import { seededRandom, seedFrom } from '../support/seeded-random.js';
import { runTsChild } from '../support/ts-child.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-projector-crash-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
// The child bundled: started once per kill, it would spend most of its life compiling under the TS loader.
const bundle = await bundleLedger({ 'projector-child': 'test/support/projector-child.ts' });
t.teardown(bundle.remove);

const KILLS = 2 * Number(process.env.CHAOS_ROUNDS ?? 3);
const seed = seedFrom('CHAOS_SEED');
const random = seededRandom(seed);
t.comment(`projector crash: ${KILLS} kills, seed ${seed} (CHAOS_SEED=${seed} replays the kill moments)`);

const SESSIONS = 1000;
/** Small batches: hundreds of transactions, so each kill lands in the middle of the run. */
const BATCH_SIZE = 5;

/** Three events a session, each shape leaving a mark that a double or a missing event would change. */
const shapes: readonly ((id: string) => NewEvent[])[] = [
  (id) => [newSessionStarted(id), newCredentialsStored(id), newVmDestroyed(id)],
  (id) => [newSessionStarted(id), newVmDestroyed(id), newCredentialsStored(id)],
  (id) => [newSessionStarted(id), newVmDestroyed(id), newSessionFailed(id)],
  (id) => [newSessionStarted(id), newCredentialsStored(id), newCredentialsStored(id)],
  (id) => [newSessionStarted(id), newSessionStarted(id), newSessionCancelled(id)],
  (id) => [newCredentialsStored(id), newSessionStarted(id), newVmDestroyed(id)],
];

type Line = { started?: string; position?: string; done?: boolean };

/**
 * Runs the projector child; once it reports a checkpoint at or past `mark`, SIGKILLs it a
 * random few milliseconds later: after that commit, or inside the next batch's transaction.
 */
const runUntilKilled = (path: string, mark: bigint, delayMs: number) =>
  runTsChild<Line>(bundle.files['projector-child']!, [path, String(BATCH_SIZE)], {
    execArgv: [],
    onLine: (line, proc) => {
      if (line.done === undefined && line.position !== undefined && BigInt(line.position) >= mark) setTimeout(() => proc.kill('SIGKILL'), delayMs);
    },
  });

t.test('a projector killed again and again while catching up resumes from its checkpoint: no event applied twice, none skipped', async (t) => {
  const path = join(dir, 'ledger.db');
  const store = openSqliteEventStore({ path, synchronous: 'NORMAL' });
  t.teardown(() => store.close());
  // Round by round, so the streams interleave in the log and most batches touch several sessions.
  const streams = Array.from({ length: SESSIONS }, (_, i) => ({ id: `crash-${i}`, events: shapes[i % shapes.length]!(`crash-${i}`) }));
  for (let round = 0; round < 3; round++) {
    for (const { id, events } of streams) await store.append(sessionStreamName(id), [events[round]!]);
  }
  const events = await sessionEvents(store);
  const last = events.at(-1)!.position;
  t.equal(events.length, 3 * SESSIONS);

  // The comparisons below would see a double or a gap: applying a batch twice, or not at all,
  // gives other rows.
  const once = projectAll(events);
  t.notSame(projectAll([...events.slice(0, 2000 + BATCH_SIZE), ...events.slice(2000)]), once, 'a batch applied twice shows');
  t.notSame(projectAll([...events.slice(0, 2000), ...events.slice(2000 + BATCH_SIZE)]), once, 'a batch skipped shows');

  // Kill marks spread over the backlog, short of its end (the last run finishes it), far enough
  // from it that a batch or two after the mark never reaches it.
  const marks = Array.from({ length: KILLS }, () => BigInt(random.int(1, Number(last) - 100 * BATCH_SIZE))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let checkpoint = 0n;
  for (const [index, mark] of marks.entries()) {
    const { lines, signal } = await runUntilKilled(path, mark > checkpoint ? mark : checkpoint + 1n, random.int(0, 5));
    const run = `run ${index + 1} (killed past ${mark})`;
    t.equal(signal, 'SIGKILL', `${run}: killed`);
    t.equal(lines[0]?.started, String(checkpoint), `${run}: it started from the checkpoint the last one left`);
    t.notOk(lines.some((line) => line.done !== undefined), `${run}: it had not reached the end`);
    const reported = BigInt(lines.filter((line) => line.position !== undefined).at(-1)?.position ?? checkpoint);

    const now = checkpointOf(store.database);
    t.ok(now >= reported, `${run}: every batch it reported is in the file (${now} >= ${reported})`);
    t.ok(now > checkpoint && now < last, `${run}: the checkpoint moved, short of the end (${checkpoint} -> ${now} of ${last})`);
    // Whatever the kill interrupted, the file holds exactly the log up to its checkpoint.
    const { checked, differences } = await compareWithFold(store, store.database, now);
    t.same(differences, [], `${run}: the read model equals a fresh fold of the log up to ${now} (${checked} sessions)`);
    checkpoint = now;
  }

  const projector = createProjector({ store, db: store.database, batchSize: 500 });
  t.teardown(() => projector.stop());
  projector.start();
  t.equal(projector.position, checkpoint, 'the last run resumes from the checkpoint');
  t.ok(await projector.waitForPosition(last, 30_000), 'and applies the rest');
  await projector.stop();
  t.equal(checkpointOf(store.database), last);
  const { checked, differences } = await compareWithFold(store, store.database);
  t.equal(checked, SESSIONS);
  t.same(differences, [], 'the read model equals a fresh fold of the whole log');

  const anomalies = store.database.prepare('select sum(json_array_length(anomalies)) from auth_sessions').pluck().get();
  t.equal(Number(anomalies), once.reduce((sum, row) => sum + row.anomalies.length, 0), 'as many anomalies as one fold notes');
});
