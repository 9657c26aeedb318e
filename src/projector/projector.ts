import { setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { SESSION_CATEGORY, type RecordedEvent } from '../events/index.js';
import { StorageFaultError, StoreClosedError } from '../store/errors.js';
import type { EventStore, Subscription, SubscriptionMessage } from '../store/port.js';
import { silentLogger, type PartLogger } from '../part-logger.js';
import { LONGEST_TIMER_MS } from '../timers.js';
import { startBatchSpans } from './batch-spans.js';
import type { Projection } from './projection.js';
import type { Projector } from './projector-port.js';
import type { SessionRow } from './session-row.js';
import { openReadModel } from './sqlite-read-model.js';

export type ProjectorOptions = {
  store: EventStore;
  /** Most events applied in one transaction. Defaults to 500. */
  batchSize?: number;
  /** How long to wait before resubscribing after the subscription fails. Defaults to 1 s. */
  retryDelayMs?: number;
  logger?: PartLogger;
  /** Told the checkpoint after each committed batch (a test, a crash drill). */
  onCommitted?: (position: bigint) => void;
} & (
  | {
      /** The `auth_sessions` read model's connection: the event store's own in embedded mode, a file of its own otherwise. */
      db: Database.Database;
    }
  | {
      /** Another projection to keep. */
      projection: Projection;
    }
);

/** The `auth_sessions` projector's row in `projector_checkpoint`. */
export const CHECKPOINT_NAME = 'auth_sessions';

/** The `auth_sessions` read model as a projection. */
export function sessionsProjection(db: Database.Database): Projection {
  const readModel = openReadModel(db);
  return {
    name: CHECKPOINT_NAME,
    checkpoint: () => readModel.checkpoint(CHECKPOINT_NAME),
    apply: (events) => readModel.applyBatch(CHECKPOINT_NAME, events),
  };
}

/** Applying a batch failed: the read model cannot go on, unlike after a dropped subscription. */
class BatchFailed extends Error {
  override readonly name = 'BatchFailed';
  constructor(cause: unknown) {
    super('a batch could not be applied', { cause });
  }
}

const DUE = Symbol('due');

/**
 * A live batch's deadline: once the microtasks running now have run. The subscription
 * delivers what it has read (a page, a burst of appends) within microtasks, so this is when
 * it would wait for more, before any timer, request or append that comes next.
 */
const microtasksDone = () => new Promise<typeof DUE>((resolve) => process.nextTick(resolve, DUE));

/**
 * A catching-up batch's deadline: the next turn of the event loop, so events a store
 * delivers over several callbacks of one turn (EventStoreDB's stream) still make one batch.
 */
const nextTurn = () => new Promise<typeof DUE>((resolve) => setImmediate(resolve, DUE));

/** A turn of the event loop: timers and requests served. */
const turnOfTheLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/**
 * Follows the store's session streams from the read model's checkpoint and folds them into
 * `auth_sessions`. Each batch of events and the checkpoint after it are written in one
 * transaction, so a crash never applies an event twice or skips one: a restart resumes
 * from the checkpoint. A batch grows while events are ready at once (catch-up, bursts) and
 * is written when full, when the subscription has caught up, or by a deadline set by its
 * first event: once live, when the microtasks that delivered it have run, so a live event is
 * not held back by what comes next; while catching up, at the next turn of the loop.
 */
export function createProjector(options: ProjectorOptions): Projector {
  const { store, batchSize = 500, retryDelayMs = 1000, logger = silentLogger } = options;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`invalid batch size ${String(batchSize)}`);
  if (!Number.isFinite(retryDelayMs) || retryDelayMs < 0) throw new RangeError(`invalid retry delay ${String(retryDelayMs)}`);
  const projection = 'projection' in options ? options.projection : sessionsProjection(options.db);

  let position = projection.checkpoint();
  let running = false;
  let caughtUp = false;
  let failure: Error | null = null;
  let fault: StorageFaultError | null = null;
  let stopping: AbortController | null = null;
  let subscription: Subscription | null = null;
  let loop: Promise<void> = Promise.resolve();
  const waiters = new Set<{ target: bigint; settle: (reached: boolean) => void }>();
  const listeners = new Set<{ listener: (rows: readonly SessionRow[]) => void }>();

  /** Writes the batch and its checkpoint, then tells waiters and listeners. Empties `batch`. */
  function flush(batch: RecordedEvent[]): void {
    if (batch.length === 0) return;
    const events = batch.splice(0);
    const spans = startBatchSpans(projection.name, events, caughtUp);
    let applied;
    try {
      applied = projection.apply(events);
    } catch (error) {
      spans.end([], error);
      // The storage's fault passes (room is made, the file made writable): retried, not the end.
      if (error instanceof StorageFaultError) throw error;
      throw new BatchFailed(error);
    }
    spans.end(applied.rows);
    if (fault !== null) {
      logger.info({ position: String(applied.position) }, 'projector writes the read model again');
      fault = null;
    }
    // Another projector on this file may have applied some or all of them, and more.
    if (applied.position > position) position = applied.position;
    options.onCommitted?.(position);
    for (const waiter of waiters) if (position >= waiter.target) waiter.settle(true);
    if (applied.rows.length === 0) return;
    for (const { listener } of listeners) {
      try {
        // An async listener is typed as returning void too; its rejection is caught the same way.
        const returned: unknown = listener(applied.rows);
        if (returned instanceof Promise) returned.catch(listenerFailed);
      } catch (error) {
        listenerFailed(error);
      }
    }
  }

  /** A listener's bug is its own: the read model is written and goes on. */
  function listenerFailed(error: unknown): void {
    logger.warn({ err: error, position: String(position) }, 'a read-model change listener threw');
  }

  /**
   * Reads the subscription until it ends; throws BatchFailed, or what the subscription threw.
   * Events delivered but not yet written when the subscription throws are dropped: the next
   * subscription starts from the checkpoint and delivers them again.
   */
  async function follow(from: Subscription, signal: AbortSignal): Promise<void> {
    const iterator = from[Symbol.asyncIterator]();
    const batch: RecordedEvent[] = [];
    let pending: Promise<IteratorResult<SubscriptionMessage>> | null = null;
    // One deadline per batch, set by its first event and not moved by later ones: a steady
    // stream of appends, each arriving before the last one's deadline, would otherwise hold
    // the batch back until it is full.
    let due: Promise<typeof DUE> | null = null;
    const write = () => {
      flush(batch);
      due = null;
    };
    try {
      while (!signal.aborted) {
        pending ??= iterator.next();
        const result = due === null ? await pending : await Promise.race([pending, due]);
        if (result === DUE) {
          write();
          continue;
        }
        pending = null;
        if (result.done) break;
        const message = result.value;
        if (message.kind === 'caughtUp') {
          write();
          if (!caughtUp) logger.info({ position: String(position) }, 'projector caught up; following live');
          caughtUp = true;
          continue;
        }
        batch.push(message.event);
        due ??= caughtUp ? microtasksDone() : nextTurn();
        if (batch.length >= batchSize) {
          write();
          // A catch-up delivers its events without waiting: the loop turns between full batches,
          // so timers and requests are served during a long one.
          await turnOfTheLoop();
        }
      }
      // Stopped, or ended by the store: what was delivered is applied.
      flush(batch);
    } finally {
      // A next() left behind settles when the subscription closes; nobody awaits it any more.
      pending?.catch(() => {});
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    logger.info({ position: String(position) }, 'projector starting from its checkpoint');
    try {
      while (!signal.aborted) {
        try {
          subscription = store.subscribe({ after: position, category: SESSION_CATEGORY });
          try {
            await follow(subscription, signal);
          } finally {
            await subscription.close();
            subscription = null;
          }
          if (signal.aborted) break;
          // The store ended it unasked; if the store is closed, resubscribing says so.
          throw new Error('the subscription ended');
        } catch (error) {
          if (error instanceof BatchFailed) {
            failure = asError(error.cause);
            logger.error({ err: failure, position: String(position) }, 'projector stopped: a batch could not be applied');
            return;
          }
          if (error instanceof StoreClosedError) {
            failure = error;
            logger.error({ err: error, position: String(position) }, 'projector stopped: the store is closed');
            return;
          }
          if (signal.aborted) return;
          // The read model stays at its checkpoint and is no longer live until it catches up again.
          caughtUp = false;
          if (error instanceof StorageFaultError) {
            // Said when it starts or changes, not at every retry: a full disk can last.
            if (fault?.kind !== error.kind) {
              logger.error(
                { err: error.cause, fault: error.kind, reason: error.reason, path: error.path, position: String(position), retryEveryMs: retryDelayMs },
                'projector cannot write the read model; it retries from its checkpoint until it can',
              );
            }
            fault = error;
          } else {
            logger.warn(
              { err: error, position: String(position), retryInMs: retryDelayMs },
              'projector subscription failed; resubscribing from the checkpoint',
            );
          }
          await sleep(retryDelayMs, undefined, { signal }).catch(() => {});
        }
      }
    } finally {
      running = false;
      caughtUp = false;
      stopping = null;
      if (failure === null) logger.info({ position: String(position) }, 'projector stopped');
    }
  }

  return {
    start() {
      if (running) return;
      // Another process may have moved the checkpoint while this projector was not running.
      position = projection.checkpoint();
      running = true;
      failure = null;
      stopping = new AbortController();
      loop = run(stopping.signal);
    },

    async stop() {
      if (stopping) {
        stopping.abort();
        // Wakes a subscription that is waiting for appends; the loop then applies what it holds.
        await subscription?.close();
      }
      await loop;
    },

    get position() {
      return position;
    },
    get running() {
      return running;
    },
    get caughtUp() {
      return caughtUp;
    },
    get failure() {
      return failure;
    },
    get fault() {
      return fault;
    },

    waitForPosition(target, timeoutMs) {
      if (position >= target) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const waiter = {
          target,
          settle: (reached: boolean) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(reached);
          },
        };
        const timer = setTimeout(() => waiter.settle(false), Math.min(timeoutMs, LONGEST_TIMER_MS));
        waiters.add(waiter);
      });
    },

    async lag() {
      const last = await store.lastPosition({ category: SESSION_CATEGORY });
      return last > position ? last - position : 0n;
    },

    onChange(listener) {
      // An entry of its own, so one function registered twice is called twice and removed once.
      const entry = { listener };
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
  };
}
