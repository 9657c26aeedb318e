/**
 * Group commit: the requests that arrive within one turn of the event loop are committed
 * together, in one transaction and so one fsync, instead of one fsync each. Each request
 * still has its own outcome (one may conflict while the others are stored), and every
 * caller is answered only after the COMMIT that holds its request returned.
 */

/** What became of one request of a committed batch. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface GroupCommitOptions<Request, Result> {
  /**
   * Commits a batch in one transaction, synchronously: the outcome of each request, in order.
   * Throws when the transaction itself fails (BEGIN, COMMIT, a fault of the disk): then none
   * of the batch is stored, and every request of it is refused with that error.
   */
  commit: (batch: readonly Request[]) => Outcome<Result>[];
  /** A request's weight toward `maxWeight` (an append's number of events). */
  weightOf: (request: Request) => number;
  /** At most this many requests in one batch; the rest wait for the next. */
  maxRequests: number;
  /** At most this much weight in one batch, unless its first request alone weighs more. */
  maxWeight: number;
  /**
   * Settles once what the batch committed is on the disk (`wal-sync.ts`); its callers are
   * answered only then, and its failure fails every request the batch stored. Absent, a
   * batch is answered as its commit returns (SQLite synced it, or was told not to).
   */
  durable?: () => Promise<void>;
  /** After each acknowledged batch, with the number of requests it acknowledged; its errors are swallowed. */
  onCommitted?: (acknowledged: number) => void;
}

interface Pending<Request, Result> {
  request: Request;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<Request, Result> {
  readonly #options: GroupCommitOptions<Request, Result>;
  #queue: Pending<Request, Result>[] = [];
  #scheduled: NodeJS.Immediate | null = null;

  constructor(options: GroupCommitOptions<Request, Result>) {
    this.#options = options;
  }

  /** Settles once the batch that holds `request` has committed (or failed). */
  submit(request: Request): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      // setImmediate, not a microtask: the requests of every callback of this turn (each
      // HTTP request parsed, each appender woken by the last batch) join the batch first.
      this.#scheduled ??= setImmediate(() => this.#flushScheduled());
    });
  }

  /** Commits everything queued now, batch after batch, before returning (the store's close). */
  drain(): void {
    if (this.#scheduled !== null) clearImmediate(this.#scheduled);
    this.#scheduled = null;
    while (this.#queue.length > 0) this.#flushOne();
  }

  #flushScheduled(): void {
    this.#scheduled = null;
    this.#flushOne();
    // What the bounds left waits one more turn, so the event loop is not held by a backlog.
    // (`??=`: a caller answered by this batch may already have queued an append, and its turn.)
    if (this.#queue.length > 0) this.#scheduled ??= setImmediate(() => this.#flushScheduled());
  }

  /** Commits the next batch of the queue and answers its callers once it is durable. */
  #flushOne(): void {
    const batch = this.#nextBatch();
    let outcomes: Outcome<Result>[];
    try {
      outcomes = this.#options.commit(batch.map((pending) => pending.request));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    const { durable } = this.#options;
    if (durable === undefined) {
      this.#answer(batch, outcomes);
      return;
    }
    // The next batch may commit while this one syncs: its sync then covers both.
    durable().then(
      () => this.#answer(batch, outcomes),
      (error: unknown) => this.#answer(batch, outcomes.map((outcome) => (outcome.ok ? { ok: false, error } : outcome))),
    );
  }

  #answer(batch: readonly Pending<Request, Result>[], outcomes: readonly Outcome<Result>[]): void {
    let acknowledged = 0;
    for (const [index, pending] of batch.entries()) {
      const outcome = outcomes[index]!;
      if (outcome.ok) {
        acknowledged++;
        pending.resolve(outcome.value);
      } else {
        pending.reject(outcome.error);
      }
    }
    try {
      this.#options.onCommitted?.(acknowledged);
    } catch {
      // A listener's bug (a test's, a metric's) must not fail appends that are stored.
    }
  }

  /** The longest head of the queue within the bounds; never empty when the queue is not. */
  #nextBatch(): Pending<Request, Result>[] {
    const { maxRequests, maxWeight, weightOf } = this.#options;
    let count = 0;
    let weight = 0;
    while (count < this.#queue.length && count < maxRequests) {
      const next = weightOf(this.#queue[count]!.request);
      if (count > 0 && weight + next > maxWeight) break;
      weight += next;
      count++;
    }
    return this.#queue.splice(0, count);
  }
}
