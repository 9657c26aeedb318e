import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandHandler } from './command-handler.js';
import { derivedEventId, type Actor } from '../events/index.js';
import { silentLogger, type PartLogger } from '../part-logger.js';
import type { ReadModel } from '../projector/read-model.js';
import { LONGEST_TIMER_MS } from '../timers.js';

export interface DeadlineSweeperOptions {
  /** Where due sessions are found: the projector's read model. */
  readModel: Pick<ReadModel, 'expiredPending'>;
  /** The handler every writer goes through: it folds the stream, decides and appends. */
  commands: CommandHandler;
  /** What "now" is; the command handler stamps `recordedAt` with its own clock. */
  clock: () => Date;
  /** The pause between the end of one sweep and the start of the next, in milliseconds. */
  intervalMs: number;
  /** Most sessions expired by one sweep; the oldest deadlines go first. Defaults to 100. */
  batchSize?: number;
  logger?: PartLogger;
}

export interface SweepResult {
  /** Sessions whose `SessionExpired` this sweep wrote; not those another writer had already. */
  expired: string[];
}

export interface DeadlineSweeper {
  /** One sweep now, after the one in progress if any. Rejects only if the read model cannot be asked. */
  sweepOnce(): Promise<SweepResult>;
  /** Sweeps at once, then every `intervalMs` after each sweep ends; returns at once. */
  start(): void;
  /** Stops sweeping; resolves once the sweep in progress, if any, has ended. */
  stop(): Promise<void>;
  readonly running: boolean;
}

/** Who the expiries are recorded as. */
export const SWEEPER_ACTOR: Actor = Object.freeze({ role: 'ledger', sub: 'deadline-sweeper' });

/**
 * The event id of a session's expiry: the same on every ledger instance, so when two sweep
 * the same session, the second append is a retry the store recognises, not a second event.
 */
export const expiryEventId = (sessionId: string): string => derivedEventId(`SessionExpired/${sessionId}`);

/**
 * Appends `SessionExpired` to pending sessions whose `expiresAt` has passed. The read model
 * says which sessions are due; the command handler decides against the stream itself, so a
 * read model that lags behind can make the sweeper look at a session for nothing, never
 * expire one that has ended. Safe with several instances sweeping: see `expiryEventId`.
 */
export function createDeadlineSweeper(options: DeadlineSweeperOptions): DeadlineSweeper {
  const { readModel, commands, clock, intervalMs, batchSize = 100, logger = silentLogger } = options;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1 || intervalMs > LONGEST_TIMER_MS) {
    throw new RangeError(`invalid sweep interval ${String(intervalMs)}`);
  }
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`invalid batch size ${String(batchSize)}`);

  /** The last sweep asked for; each waits for the one before, so two never run at once. */
  let lastSweep: Promise<unknown> = Promise.resolve();
  /** The timer loop; it never rejects, a failed sweep is logged inside it. */
  let loop: Promise<void> = Promise.resolve();
  let stopping: AbortController | null = null;

  /** Records the expiry of one session; true when this call wrote it. */
  async function expire(sessionId: string, expiresAt: string): Promise<boolean> {
    try {
      // Decided against the stream itself: a session that ended meanwhile records nothing.
      const result = await commands({ type: 'ExpireSession', data: { sessionId, expiresAt } }, { eventId: expiryEventId(sessionId), actor: SWEEPER_ACTOR });
      return result.recorded;
    } catch (error) {
      // One session's trouble must not hold up the others; it is due again next sweep.
      logger.warn({ err: error, sessionId }, 'could not expire a session; the next sweep tries again');
      return false;
    }
  }

  async function sweep(): Promise<SweepResult> {
    const due = readModel.expiredPending(clock().getTime(), batchSize);
    const expired: string[] = [];
    // One at a time: the sessions are few, and the store serialises appends anyway.
    for (const { sessionId, expiresAt } of due) {
      if (await expire(sessionId, expiresAt)) expired.push(sessionId);
    }
    if (expired.length > 0) logger.info({ expired: expired.length }, 'expired pending sessions past their deadline');
    return { expired };
  }

  function sweepOnce(): Promise<SweepResult> {
    const next = lastSweep.then(sweep, sweep);
    lastSweep = next;
    return next;
  }

  /** A sweep for the loop: it never rejects, so one failure does not end the loop. */
  function sweepAndLog(): Promise<void> {
    return sweepOnce().then(
      () => {},
      (error: unknown) => logger.error({ err: error }, 'a deadline sweep failed; the next one runs as planned'),
    );
  }

  async function run(first: Promise<void>, signal: AbortSignal): Promise<void> {
    await first;
    while (!signal.aborted) {
      // Unreferenced: a sweeper left running must not keep the process alive on its own.
      await sleep(intervalMs, undefined, { signal, ref: false }).catch(() => {});
      if (signal.aborted) break;
      await sweepAndLog();
    }
    logger.info({}, 'deadline sweeper stopped');
  }

  return {
    sweepOnce,

    start() {
      if (stopping && !stopping.signal.aborted) return;
      const controller = new AbortController();
      stopping = controller;
      logger.info({ intervalMs, batchSize }, 'deadline sweeper started');
      // Asked for now, so that a started sweeper has swept, even when stopped at once.
      const first = sweepAndLog();
      // A loop still being stopped ends first: the new one follows it.
      loop = loop.then(() => run(first, controller.signal));
    },

    async stop() {
      stopping?.abort();
      await loop;
      // A sweep asked for directly, outside the loop, ends too.
      await lastSweep.catch(() => {});
    },

    get running() {
      return stopping !== null && !stopping.signal.aborted;
    },
  };
}
