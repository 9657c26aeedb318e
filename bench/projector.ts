// The projector: how fast it catches up on a large log (a fresh instance, a rebuilt read
// model), and how long a live append takes to reach the read model at a steady rate.
// BENCH_PROJECTOR_EVENTS sets the catch-up log's size (default 1,000,000; quick 5,000).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../src/application/open-store.js';
import type { NewEvent } from '../src/events/index.js';
import { createProjector } from '../src/projector/index.js';
import { openSqliteEventStore } from '../src/store/sqlite/index.js';
import type { Figure, Scenario, ScenarioContext } from './figure.js';

const EVENTS_PER_SESSION = 4;
const CATCH_UP_TARGET = 100_000;
const LAG_TARGET_MS = 10;

const metadata = () => ({ actor: { role: 'controller' as const, sub: 'bench' }, recordedAt: new Date().toISOString() });

/** A session's life as the VM manager and the agent report it: the 4 events of bench/audit.ts. */
function sessionEvents(i: number): NewEvent[] {
  const sessionId = `bench-${i}`;
  const meta = metadata();
  return [
    { type: 'SessionStarted', eventId: randomUUID(), metadata: meta, data: { sessionId, userId: `user-${i % 1000}`, provider: 'gemini', browserVmId: `vm-${i}`, expiresAt: '2030-01-01T00:00:00.000Z' } },
    { type: 'VmDestroyed', eventId: randomUUID(), metadata: meta, data: { sessionId, vmId: `vm-${i}`, reason: 'VM crashed' } },
    { type: 'CredentialsStored', eventId: randomUUID(), metadata: meta, data: { sessionId, provider: 'gemini', credentialRef: `cred-${i}` } },
    { type: 'VmDestroyed', eventId: randomUUID(), metadata: meta, data: { sessionId, vmId: `vm-${i}`, reason: 'clean-up' } },
  ];
}

/** Events per second of a projector started from checkpoint 0 on a log of `total` events, until it holds the last. */
async function catchUp({ dir, log }: ScenarioContext, total: number): Promise<Figure> {
  const path = join(dir, 'catch-up.db');
  const sessions = Math.ceil(total / EVENTS_PER_SESSION);
  // Written as fast as the store goes (no fsync): the setup, not what is measured.
  const writer = openSqliteEventStore({ path, synchronous: 'OFF' });
  const setupBegin = performance.now();
  for (let i = 0; i < sessions; i++) await writer.append(`authSession-bench-${i}`, sessionEvents(i));
  await writer.close();
  const events = sessions * EVENTS_PER_SESSION;
  log(`projector: ${events} events written in ${((performance.now() - setupBegin) / 1000).toFixed(1)} s (setup)`);

  // As the ledger opens it: the store, and the read model on its own connection to the file.
  const opened = await openStore({ kind: 'sqlite', path });
  try {
    const projector = createProjector({ store: opened.store, db: opened.readModelDb });
    const last = await opened.store.lastPosition();
    const begin = performance.now();
    projector.start();
    const reached = await projector.waitForPosition(last, 3_600_000);
    const seconds = (performance.now() - begin) / 1000;
    await projector.stop();
    if (!reached) throw new Error(`the projector stopped at ${String(projector.position)} of ${String(last)}`, { cause: projector.failure });
    const value = events / seconds;
    log(`projector: caught up on ${events} events in ${seconds.toFixed(1)} s`);
    return {
      scenario: 'projector',
      name: `catch-up from checkpoint 0, ${events.toLocaleString('en-US')} events`,
      value,
      unit: 'events/s',
      target: { text: `>= ${CATCH_UP_TARGET.toLocaleString('en-US')} events/s`, met: value >= CATCH_UP_TARGET },
      // Said because it flatters: a batch then writes one row per session, not one per event.
      note: `sessions of ${EVENTS_PER_SESSION} consecutive events; a log whose sessions interleave writes a row per event and catches up slower`,
    };
  } finally {
    await opened.close();
  }
}

/** The value at quantile `q` of sorted values, by nearest rank. */
const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

/**
 * Appends events at `rate` a second for `seconds`, on a store as served (FULL sync) whose
 * projector is running and caught up; each append's lag is the time from its promise
 * resolving to the projector committing its position.
 */
async function liveLag({ dir, log }: ScenarioContext, rate: number, seconds: number): Promise<Figure[]> {
  const path = join(dir, 'live.db');
  const opened = await openStore({ kind: 'sqlite', path, synchronous: 'FULL' });
  // Acknowledged appends the projector has not yet committed, by position.
  const unapplied: { position: bigint; at: number }[] = [];
  const acknowledged = (position: bigint, at: number) => {
    // Concurrent appends may be acknowledged out of position order (a batch's callers in turn).
    let index = unapplied.length;
    while (index > 0 && unapplied[index - 1]!.position > position) index--;
    unapplied.splice(index, 0, { position, at });
  };
  const started = new Map<number, Promise<void>>();
  const lags: number[] = [];
  const projector = createProjector({
    store: opened.store,
    db: opened.readModelDb,
    onCommitted(position) {
      const now = performance.now();
      while (unapplied.length > 0 && unapplied[0]!.position <= position) lags.push(now - unapplied.shift()!.at);
    },
  });
  try {
    // Some sessions already there, so the read model's indexes are not empty.
    for (let i = 0; i < 1000; i++) await opened.store.append(`authSession-bench-${i}`, sessionEvents(i));
    projector.start();
    if (!(await projector.waitForPosition(await opened.store.lastPosition(), 60_000))) throw new Error('the projector did not catch up');

    const count = Math.round(rate * seconds);
    const begin = performance.now();
    let done = 0;
    const appending = new Set<Promise<void>>();
    // Open loop, as requests come to a server: the appends due by now are made whether or not
    // the earlier ones were acknowledged. Bounded in time too: a disk slower than the rate
    // makes fewer appends, not a longer run.
    while (done < count && performance.now() - begin < seconds * 1000) {
      const due = Math.min(count, Math.floor(((performance.now() - begin) / 1000) * rate) + 1);
      while (done < due) {
        // A login's two facts in turn: a session started, then its credentials stored.
        const i = done++;
        const session = 1000 + Math.floor(i / 2);
        const event = sessionEvents(session)[i % 2 === 0 ? 0 : 2]!;
        // The credentials wait for their session's start: a stream's facts come in order.
        const previous = i % 2 === 0 ? Promise.resolve() : started.get(session);
        const appended = (async () => {
          await previous;
          const { position } = await opened.store.append(`authSession-bench-${session}`, [event]);
          const at = performance.now();
          if (projector.position >= position) lags.push(0);
          else acknowledged(position, at);
        })();
        if (i % 2 === 0) started.set(session, appended);
        else started.delete(session);
        appending.add(appended);
        void appended.finally(() => appending.delete(appended));
      }
      await sleep(1);
    }
    await Promise.all(appending);
    const achieved = done / ((performance.now() - begin) / 1000);
    if (!(await projector.waitForPosition(await opened.store.lastPosition(), 60_000))) throw new Error('the projector did not reach the last append');
    lags.sort((a, b) => a - b);
    const note = `${done} appends of one event in ${seconds} s, ${achieved.toFixed(0)} appends/s achieved (asked ${rate}/s), synchronous=FULL; ${lags.filter((lag) => lag === 0).length} had their row before their caller was answered (a lag of 0)`;
    log(`projector: live lag over ${note}`);
    const p50 = quantile(lags, 0.5);
    const p99 = quantile(lags, 0.99);
    return [
      { scenario: 'projector', name: `live lag p50 at ${rate.toLocaleString('en-US')} appends/s`, value: p50, unit: 'ms', note },
      {
        scenario: 'projector',
        name: `live lag p99 at ${rate.toLocaleString('en-US')} appends/s`,
        value: p99,
        unit: 'ms',
        target: { text: `p99 < ${LAG_TARGET_MS} ms`, met: p99 < LAG_TARGET_MS },
        note,
      },
    ];
  } finally {
    await projector.stop();
    await opened.close();
  }
}

export const projectorScenario: Scenario = {
  name: 'projector',
  async run(context) {
    const total = Number(process.env.BENCH_PROJECTOR_EVENTS ?? (context.quick ? 5_000 : 1_000_000));
    const catchUpFigure = await catchUp(context, total);
    const lagFigures = context.quick ? await liveLag(context, 200, 2) : await liveLag(context, 2_000, 10);
    return [catchUpFigure, ...lagFigures];
  },
};
