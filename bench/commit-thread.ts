// Issue 16, item 1: group commit on the main thread, or a worker thread that owns the write
// connection? And a third way, the ledger's: the commit on the main thread, its fsync on
// libuv's thread pool, its checkpoints in a worker. The prototypes write the same log with the same function (commit-thread-log.ts),
// driven the same way by 64 concurrent appenders; what differs is the thread that waits for
// each commit's fsync. The main thread's event-loop delay, measured meanwhile, is what an HTTP
// request served by that thread would wait on top of its own work.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Figure, Scenario, ScenarioContext } from './figure.js';
import { openPrototypeLog, type PrototypeAppend, type PrototypeAppender } from './commit-thread-log.js';
import { openInWorkerAppender } from './commit-thread-in-worker.js';
import { openOnLoopAppender } from './commit-thread-on-loop.js';

const APPENDERS = 64;
/** A session's stream is short: each appender moves to a new session after this many events. */
const EVENTS_PER_SESSION = 4;

/** One event of about the ledger's size: data ~300 B of JSON, metadata ~160 B. */
function eventOf(streamName: string, sessionId: string, expectedRevision: number): Omit<PrototypeAppend, 'ticket'> {
  const recordedAt = new Date().toISOString();
  return {
    streamName,
    expectedRevision,
    eventId: randomUUID(),
    type: 'CredentialsStored',
    data: {
      sessionId,
      userId: `user-${sessionId.slice(0, 8)}`,
      provider: 'gemini',
      browserVmId: `vm-${sessionId}`,
      expiresAt: recordedAt,
      reason: 'stored after the VM reported its login page',
      credentialRef: `cred-${sessionId}`,
    },
    metadata: { actor: { role: 'controller', sub: 'vm-manager' }, correlationId: randomUUID(), recordedAt, schemaVersion: 1 },
  };
}

/** A prototype's totals over the rounds it was driven. */
interface Totals {
  label: string;
  acknowledged: number;
  refused: number;
  ms: number;
  commits: number;
  commitMs: number;
  /** Appends of the warm-up: stored, not counted in the rate. */
  warmup: number;
}

/** One prototype under measurement. */
interface Prototype extends Totals {
  path: string;
  appender: PrototypeAppender;
  /** The main thread's event-loop delay in each round, in ms. */
  delays: Delay[];
}

interface Delay {
  p50: number;
  p99: number;
  max: number;
}

async function openPrototype(label: string, path: string, open: (path: string) => PrototypeAppender | Promise<PrototypeAppender>): Promise<Prototype> {
  return { label, path, appender: await open(path), delays: [], acknowledged: 0, refused: 0, ms: 0, commits: 0, commitMs: 0, warmup: 0 };
}

/** `count` appends by `APPENDERS` appenders, each awaiting its acknowledgement before its next append. */
async function appendConcurrently(appender: PrototypeAppender, count: number): Promise<{ acknowledged: number; refused: number }> {
  let issued = 0;
  let acknowledged = 0;
  let refused = 0;
  const appendOne = async () => {
    let sessionId = randomUUID();
    let revision = -1;
    while (issued < count) {
      issued++;
      if (revision === EVENTS_PER_SESSION - 1) {
        sessionId = randomUUID();
        revision = -1;
      }
      const ack = await appender.append(eventOf(`authSession-${sessionId}`, sessionId, revision));
      if ('error' in ack) refused++;
      else {
        acknowledged++;
        revision = ack.revision;
      }
    }
  };
  await Promise.all(Array.from({ length: APPENDERS }, appendOne));
  return { acknowledged, refused };
}

/** Warms the prototype (JIT, the file's first pages, the worker's start) before anything is counted. */
async function warmUp(prototype: Prototype, count: number): Promise<void> {
  const { acknowledged } = await appendConcurrently(prototype.appender, count);
  prototype.warmup += acknowledged;
}

/** One measured round: the appends, their time, the commits they took, and the delay meanwhile. */
async function driveRound(prototype: Prototype, count: number): Promise<void> {
  const commitsBefore = prototype.appender.commits;
  const commitMsBefore = prototype.appender.commitMs;
  // A histogram of its own for each round: one enabled again counts the time it was off as a
  // delay. 1 ms, the finest its timer samples: an fsync takes a few.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const begin = performance.now();
  const { acknowledged, refused } = await appendConcurrently(prototype.appender, count);
  prototype.ms += performance.now() - begin;
  delay.disable();
  const toMs = (ns: number) => ns / 1e6;
  prototype.delays.push({ p50: toMs(delay.percentile(50)), p99: toMs(delay.percentile(99)), max: toMs(delay.max) });
  prototype.acknowledged += acknowledged;
  prototype.refused += refused;
  prototype.commits += prototype.appender.commits - commitsBefore;
  prototype.commitMs += prototype.appender.commitMs - commitMsBefore;
}

interface Measured extends Totals {
  /** Events in the file besides the warm-up's, read back after the connection closed. */
  stored: number;
  /** The main thread's event-loop delay, in ms: the median round's p50 and p99, the largest of all. */
  delayP50: number;
  delayP99: number;
  delayMax: number;
  /** Each round's p99, in ms. */
  roundP99s: number[];
}

/** The middle value (the mean of the middle two for an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The prototype's totals, with what its file holds, once its appender is closed. */
function measuredOf(prototype: Prototype): Measured {
  const { label, acknowledged, refused, ms, commits, commitMs, warmup, delays } = prototype;
  const log = openPrototypeLog(prototype.path);
  const stored = log.storedCount() - warmup;
  log.close();
  return {
    label,
    acknowledged,
    refused,
    ms,
    commits,
    commitMs,
    warmup,
    stored,
    delayP50: median(delays.map(({ p50 }) => p50)),
    delayP99: median(delays.map(({ p99 }) => p99)),
    delayMax: Math.max(...delays.map(({ max }) => max)),
    roundP99s: delays.map(({ p99 }) => p99),
  };
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** The figure's value, or null when what was acknowledged is not all stored. */
function rateOf(m: Measured): number | null {
  return m.stored >= m.acknowledged && m.acknowledged > 0 ? round(m.acknowledged / (m.ms / 1000), 0) : null;
}

function noteOf(m: Measured): string {
  const batch = m.commits === 0 ? 0 : m.acknowledged / m.commits;
  return (
    `${m.acknowledged} acknowledged, ${m.stored} stored, ${m.refused} refused, in ${round(m.ms, 0)} ms (after ${m.warmup} warm-up appends); ` +
    `${m.commits} commits, a mean batch of ${round(batch, 1)}, a mean commit of ${round(m.commits === 0 ? 0 : m.commitMs / m.commits, 2)} ms`
  );
}

function delayNoteOf(m: Measured): string {
  const rounds = m.roundP99s.map((p99) => round(p99, 1)).join(', ');
  return `the median of ${m.roundP99s.length} rounds' p99 (${rounds} ms); p50 ${round(m.delayP50, 2)} ms, max ${round(m.delayMax, 1)} ms`;
}

function ratioOf(to: string, value: number | null, reference: number | null): Figure['ratio'] | undefined {
  if (value === null || reference === null || reference === 0) return undefined;
  return { to, value: round(value / reference, 3) };
}

/** The rate and the main thread's delay of one prototype; the others carry their ratios to those of (a), the commit and its fsync on the main thread. */
function figuresOf(m: Measured, reference?: Measured): Figure[] {
  const rateName = (of: Measured) => `${APPENDERS} concurrent appenders, commits ${of.label}`;
  const delayName = (of: Measured) => `main thread's event-loop delay p99, commits ${of.label}`;
  const rate = rateOf(m);
  const p99 = round(m.delayP99, 2);
  const rateFigure: Figure = { scenario: 'commit-thread', name: rateName(m), value: rate, unit: 'appends/s', note: noteOf(m) };
  const delayFigure: Figure = { scenario: 'commit-thread', name: delayName(m), value: p99, unit: 'ms', note: delayNoteOf(m) };
  if (reference !== undefined) {
    const rateRatio = ratioOf(rateName(reference), rate, rateOf(reference));
    if (rateRatio !== undefined) rateFigure.ratio = rateRatio;
    const delayRatio = ratioOf(delayName(reference), p99, round(reference.delayP99, 2));
    if (delayRatio !== undefined) delayFigure.ratio = delayRatio;
  }
  return [rateFigure, delayFigure];
}

export const commitThreadScenario: Scenario = {
  name: 'commit-thread',
  async run({ quick, dir, log }: ScenarioContext): Promise<Figure[]> {
    const count = quick ? 2_000 : 30_000;
    // Rounds in turn, ABC then CBA, so a load that comes and goes on the machine weighs on all alike.
    const rounds = quick ? 2 : 6;
    const prototypes: Prototype[] = [];
    try {
      prototypes.push(await openPrototype('on the main thread', join(dir, 'commit-thread-main.db'), openOnLoopAppender));
      prototypes.push(await openPrototype('in a worker thread', join(dir, 'commit-thread-worker.db'), openInWorkerAppender));
      prototypes.push(
        await openPrototype('on the main thread, synced and checkpointed off it', join(dir, 'commit-thread-pool.db'), (path) =>
          openOnLoopAppender(path, { syncOffLoop: true }),
        ),
      );
      for (const prototype of prototypes) await warmUp(prototype, Math.min(1_000, Math.ceil(count / 10)));
      for (let index = 0; index < rounds; index++) {
        const appends = Math.floor((count * (index + 1)) / rounds) - Math.floor((count * index) / rounds);
        for (const prototype of index % 2 === 0 ? prototypes : [...prototypes].reverse()) await driveRound(prototype, appends);
      }
    } finally {
      for (const prototype of prototypes) await prototype.appender.close();
    }
    const [onLoop, inWorker, syncOnPool] = prototypes.map(measuredOf) as [Measured, Measured, Measured];
    for (const m of [onLoop, inWorker, syncOnPool]) log(`commit-thread: commits ${m.label}: ${noteOf(m)}; event-loop delay ${delayNoteOf(m)}`);
    return [...figuresOf(onLoop), ...figuresOf(inWorker, onLoop), ...figuresOf(syncOnPool, onLoop)];
  },
};
