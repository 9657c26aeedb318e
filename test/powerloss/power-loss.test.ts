/**
 * Power loss under load: a killed process keeps what the kernel has, a power cut keeps only
 * what was synced. `ledger serve` runs with its SQLite file on the lazy file system
 * (lazy-fs.c), which holds every unsynced byte in its own memory; concurrent writers append
 * over HTTP; at a random moment the server and the file system are killed together, which
 * drops every unsynced byte; the ledger starts again on what is left, and the writers go on,
 * first re-sending the one call each had no answer to, as a client retries. After the last
 * cut, the log as a restarted ledger opens it (`ledger export` and `ledger verify`, in this
 * process: one more `serve` would cost its start and prove nothing more) holds every
 * acknowledged append exactly once, and verify is clean.
 *
 * POWERLOSS_CUTS (2 by default; `npm run test:powerloss` makes 10) sets how many cuts.
 * POWERLOSS_SYNCHRONOUS (FULL by default) is the ledger's LEDGER_SQLITE_SYNCHRONOUS: with
 * NORMAL, SQLite syncs its WAL only at checkpoints, acknowledged appends are lost, and this
 * test fails, which is how one sees that it bites.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { StartedJson } from '../../src/contract/index.js';
import { runInProcess } from '../support/cli-in-process.js';
import { serveLedger, type ServedLedger } from '../support/served-ledger.js';
import { signal, within } from '../support/waits.js';
import { buildLazyFs, mountLazyFs, powerLossDir, type LazyFs } from './lazy-fs.js';

const CUTS = Number(process.env.POWERLOSS_CUTS ?? 2);
if (!Number.isInteger(CUTS) || CUTS < 1) throw new Error(`POWERLOSS_CUTS must be a whole number of cuts, 1 or more: ${process.env.POWERLOSS_CUTS}`);
const SYNCHRONOUS = process.env.POWERLOSS_SYNCHRONOUS ?? 'FULL';
const WRITERS = 8;
/** Each round cuts after this many acknowledged appends and up to as many again, at random. */
const ACKS_BEFORE_A_CUT = 40;

/** One call of a writer: an append with its own event id, so a retry is the same append. */
interface Append {
  eventId: string;
  type: 'SessionStarted' | 'CredentialsStored';
  path: string;
  body: Record<string, unknown>;
}

/** A writer starts a session, records its credentials, and again; the call it had no answer to waits for a retry. */
interface Writer {
  sessionId?: string | undefined;
  unanswered?: Append | undefined;
}

function nextAppend(writer: Writer, index: number): Append {
  const eventId = randomUUID();
  if (writer.sessionId === undefined) {
    const body = { userId: `writer-${index}`, provider: 'gemini', browserVmId: `vm-${eventId}`, eventId };
    return { eventId, type: 'SessionStarted', path: '/v1/sessions', body };
  }
  const body = { type: 'CredentialsStored', eventId, data: { provider: 'gemini', credentialRef: `cred-${eventId}` } };
  return { eventId, type: 'CredentialsStored', path: `/v1/sessions/${writer.sessionId}/events`, body };
}

/** What the load saw, across every round. */
interface Load {
  /** Each acknowledged append's event id, with its type. */
  acknowledged: Map<string, string>;
  /** Answers other than 200 or 201 from a server that was not being cut. */
  unexpected: string[];
}

/** Past this many unexpected answers the writers stop: the test has failed, and its load is bounded. */
const MAX_UNEXPECTED = 50;

/**
 * One writer's appends against one server, until `cutting()`: its unanswered call first. A
 * 200 or 201 is an acknowledgement, even one read after the cut began (the server sent it);
 * a call without an answer, or answered otherwise by the dying server, waits for a retry.
 * Any other answer is noted and the writer starts a new session (a lost session answers 404
 * to its next fact, so the load goes on where acknowledged appends were lost).
 */
async function write(ledger: ServedLedger, writer: Writer, index: number, load: Load, cutting: () => boolean, onAck: () => void) {
  while (!cutting()) {
    const append = (writer.unanswered ??= nextAppend(writer, index));
    let answer;
    try {
      answer = await ledger.call('POST', append.path, { token: ledger.controller, body: append.body });
    } catch {
      return;
    }
    if (answer.status === 200 || answer.status === 201) {
      writer.unanswered = undefined;
      writer.sessionId = append.type === 'SessionStarted' ? StartedJson.parse(answer.body).sessionId : undefined;
      load.acknowledged.set(append.eventId, append.type);
      onAck();
    } else if (cutting()) {
      return;
    } else {
      load.unexpected.push(`${append.type} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      [writer.unanswered, writer.sessionId] = [undefined, undefined];
      if (load.unexpected.length >= MAX_UNEXPECTED) return;
    }
  }
}

/** Each event id in an export (NDJSON), with how often it is there and its type. */
function loggedEvents(ndjson: string): Map<string, { type: string; count: number }> {
  const events = new Map<string, { type: string; count: number }>();
  for (const line of ndjson.split('\n').filter(Boolean)) {
    const { eventId, type } = JSON.parse(line) as { eventId: string; type: string };
    events.set(eventId, { type, count: (events.get(eventId)?.count ?? 0) + 1 });
  }
  return events;
}

const dir = powerLossDir();
const built = await buildLazyFs(dir).catch((error: unknown) => {
  rmSync(dir, { recursive: true, force: true });
  throw error;
});
if ('unavailable' in built) {
  rmSync(dir, { recursive: true, force: true });
  t.plan(0, built.unavailable);
} else {
  t.test(`every acknowledged append survives ${CUTS} power cuts under load (synchronous=${SYNCHRONOUS})`, async (t) => {
    const backing = join(dir, 'backing');
    const mountPoint = join(dir, 'mount');
    mkdirSync(backing);
    mkdirSync(mountPoint);
    const env = { LEDGER_DB: join(mountPoint, 'ledger.db'), LEDGER_SQLITE_SYNCHRONOUS: SYNCHRONOUS };
    let fs: LazyFs | undefined;
    let ledger: ServedLedger | undefined;
    t.teardown(async () => {
      // A test that failed half-way leaves no mount nor server behind.
      await Promise.all([fs?.cut(), ledger?.kill()]);
      rmSync(dir, { recursive: true, force: true });
    });

    const load: Load = { acknowledged: new Map(), unexpected: [] };
    const writers: Writer[] = Array.from({ length: WRITERS }, () => ({}));
    for (let cut = 1; cut <= CUTS; cut++) {
      fs = await mountLazyFs(built.binary, backing, mountPoint);
      ledger = await serveLedger(env);
      const target = ACKS_BEFORE_A_CUT + Math.floor(Math.random() * (ACKS_BEFORE_A_CUT + 1));
      let acks = 0;
      let cutting = false;
      const enough = signal();
      const serving = ledger;
      const writing = writers.map((writer, index) =>
        write(serving, writer, index, load, () => cutting, () => ++acks >= target && enough.settle()),
      );
      await within(Promise.race([enough.promise, Promise.all(writing)]), `${target} appends are acknowledged`, 60_000);
      if (acks < target) load.unexpected.push(`round ${cut}: the writers stopped after ${acks} appends acknowledged, before the cut`);
      // The cut: both SIGKILLs leave in this same tick, the file system's first.
      cutting = true;
      await Promise.all([fs.cut(), ledger.kill(), ...writing]);
      [fs, ledger] = [undefined, undefined];
      const unanswered = writers.filter((writer) => writer.unanswered).length;
      t.comment(`cut ${cut}: after ${acks} appends acknowledged in this round (${load.acknowledged.size} in all); ${unanswered} calls unanswered`);
    }

    // On what the last cut left, as a restarted ledger opens it: the log, exported, and verify.
    fs = await mountLazyFs(built.binary, backing, mountPoint);
    const exportFile = join(dir, 'export.ndjson');
    const exported = await runInProcess(['export', '--out', exportFile], env);
    // A cut can leave no log at all (its very schema unsynced): then every append is lost.
    t.equal(exported.code, 0, `ledger export read the log ${exported.stderr}`);
    const logged = loggedEvents(exported.code === 0 ? readFileSync(exportFile, 'utf8') : '');
    const lost = [...load.acknowledged].filter(([eventId]) => !logged.has(eventId));
    const doubled = [...load.acknowledged].filter(([eventId]) => (logged.get(eventId)?.count ?? 0) > 1);
    const misplaced = [...load.acknowledged].filter(([eventId, type]) => logged.has(eventId) && logged.get(eventId)?.type !== type);
    t.comment(
      `synchronous=${SYNCHRONOUS}: ${load.acknowledged.size} appends acknowledged across ${CUTS} cuts; ` +
        `${lost.length} lost, ${doubled.length} doubled, ${misplaced.length} of another type`,
    );
    t.same(load.unexpected, [], 'every append was answered 200 or 201 (but by a server being cut), and every round reached its cut');
    const some = (appends: [string, string][]) => appends.slice(0, 3).map(([eventId, type]) => `${type} ${eventId}`).join(', ');
    t.equal(lost.length, 0, `no acknowledged append was lost ${some(lost)}`);
    t.equal(doubled.length, 0, `no append is in the log twice ${some(doubled)}`);
    t.equal(misplaced.length, 0, `each acknowledged event id holds the event that was sent ${some(misplaced)}`);
    if (exported.code === 0) {
      const verified = await runInProcess(['verify'], env);
      t.equal(verified.code, 0, `ledger verify is clean:\n${verified.stdout}${verified.stderr}`);
      // Strict: a connection left open would keep the mount busy.
      await fs.unmount();
      fs = undefined;
    }
  });
}
