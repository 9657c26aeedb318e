// Issue 16, item 1: group commit on the main thread, or a worker thread that owns the write
// connection? Both prototypes write the same log with the same function (commit-thread-log.ts),
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

interface Drive {
  acknowledged: number;
  refused: number;
  ms: number;
  /** The main thread's event-loop delay, in ms. */
  delayP50: number;
  delayP99: number;
  delayMax: number;
}

/** `count` appends by `APPENDERS` appenders, each awaiting its acknowledgement before its next append. */
async function drive(appender: PrototypeAppender, count: number): Promise<Drive> {
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
  // 1 ms, the finest the histogram's timer samples: an fsync is a few ms.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const begin = performance.now();
  await Promise.all(Array.from({ length: APPENDERS }, appendOne));
  const ms = performance.now() - begin;
  delay.disable();
  const toMs = (ns: number) => ns / 1e6;
  return { acknowledged, refused, ms, delayP50: toMs(delay.percentile(50)), delayP99: toMs(delay.percentile(99)), delayMax: toMs(delay.max) };
}

interface Measured extends Drive {
  label: string;
  commits: number;
  stored: number;
  warmup: number;
}

/** Opens a prototype on a new file, warms it (JIT, file growth), drives it, and reads back what is stored. */
async function measure(
  label: string,
  open: (path: string) => PrototypeAppender | Promise<PrototypeAppender>,
  path: string,
  count: number,
): Promise<Measured> {
  const appender = await open(path);
  const warmup = Math.min(500, Math.ceil(count / 10));
  const warm = await drive(appender, warmup);
  const commitsBefore = appender.commits;
  const driven = await drive(appender, count);
  const commits = appender.commits - commitsBefore;
  await appender.close();
  const log = openPrototypeLog(path);
  const stored = log.storedCount() - warm.acknowledged;
  log.close();
  return { label, ...driven, commits, stored, warmup };
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** The figure's value, or null when what was acknowledged is not all stored. */
function rateOf(m: Measured): number | null {
  return m.stored >= m.acknowledged && m.acknowledged > 0 ? round(m.acknowledged / (m.ms / 1000), 0) : null;
}

function noteOf(m: Measured): string {
  const batch = m.commits === 0 ? 0 : m.acknowledged / m.commits;
  return (
    `${m.acknowledged} acknowledged, ${m.stored} stored, ${m.refused} refused, in ${round(m.ms, 0)} ms after ${m.warmup} warm-up appends; ` +
    `${m.commits} commits (mean batch ${round(batch, 1)}); event-loop delay p50 ${round(m.delayP50, 2)} ms, max ${round(m.delayMax, 1)} ms`
  );
}

function ratioOf(to: string, value: number | null, reference: number | null): Figure['ratio'] | undefined {
  if (value === null || reference === null || reference === 0) return undefined;
  return { to, value: round(value / reference, 3) };
}

/** The rate and the main thread's delay of one prototype; the worker's carry their ratios to the main thread's. */
function figuresOf(m: Measured, reference?: Measured): Figure[] {
  const rateName = (of: Measured) => `${APPENDERS} concurrent appenders, commits ${of.label}`;
  const delayName = (of: Measured) => `main thread's event-loop delay p99, commits ${of.label}`;
  const rate = rateOf(m);
  const p99 = round(m.delayP99, 2);
  const rateFigure: Figure = { scenario: 'commit-thread', name: rateName(m), value: rate, unit: 'appends/s', note: noteOf(m) };
  const delayFigure: Figure = { scenario: 'commit-thread', name: delayName(m), value: p99, unit: 'ms', note: `p50 ${round(m.delayP50, 2)} ms` };
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
    const onLoop = await measure('on the main thread', openOnLoopAppender, join(dir, 'commit-thread-main.db'), count);
    log(`commit-thread: commits ${onLoop.label}: ${noteOf(onLoop)}`);
    const inWorker = await measure('in a worker thread', openInWorkerAppender, join(dir, 'commit-thread-worker.db'), count);
    log(`commit-thread: commits ${inWorker.label}: ${noteOf(inWorker)}`);
    return [...figuresOf(onLoop), ...figuresOf(inWorker, onLoop)];
  },
};
