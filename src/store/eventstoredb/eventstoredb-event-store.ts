import {
  BACKWARDS,
  CancelledError,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { categoryOf, ledgerEventCodec, type EventCodec, type NewEvent, type RecordedEvent, type StoredEvent } from '../../events/index.js';
import { appendedHashes, headHash } from '../hash-chain.js';
import { assertMaxCount, assertStreamName, DEFAULT_READ_ALL_PAGE, expectedRevisionMismatch, prepareAppend } from '../requests.js';
import { EventIdConflictError, InvalidStoreRequestError, StoreClosedError, WrongExpectedRevisionError } from '../errors.js';
import { earlierResultOf } from '../idempotency.js';
import { reconnecting, type ReconnectPolicy } from './reconnecting.js';
import { appendInSpan } from '../append-span.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadStreamNamesOptions,
  ReadStreamOptions,
  SubscribeOptions,
  Subscription,
  SubscriptionMessage,
} from '../port.js';

/**
 * The event store port on EventStoreDB (or KurrentDB) through `@eventstore/db-client`.
 *
 * How the port's rules are kept on a server that does not state them all:
 *
 * - **Expected revisions and idempotency.** Every append first reads the stream (ledger
 *   streams are short: one session's facts), applies the port's idempotency rule
 *   (`earlierResultOf`) to the events carrying the append's ids, checks the writer's
 *   expected revision against the stream's last revision, and then writes with the
 *   **exact** revision it read (or `no_stream`). The server therefore refuses the write
 *   if anything reached the stream in between; the adapter then reads again and decides
 *   again. So `any` and `stream_exists` never double a retried append, and nothing rests
 *   on the server's best-effort id cache.
 * - **An id used in another stream.** EventStoreDB keeps no global index of event ids,
 *   and scanning `$all` per append is out of the question. The rule kept here: each open
 *   adapter remembers the stream of every id it appended or read (bounded, most recent
 *   `idMemory` ids), and refuses an id it knows from another stream. Across processes and
 *   restarts the check is not made; event ids are random UUIDs chosen by writers, so a
 *   reuse in another stream is a caller's bug that this catches within one process only.
 * - **Positions** are commit positions of `$all`, as bigint.
 * - **`readAll`** reads `$all` and filters the category on the client (6.2.1's `readAll`
 *   has no server-side filter). System streams (`$`-prefixed) and `$`-typed events are
 *   skipped.
 * - **Subscriptions** use `subscribeToAll` with the stream-name prefix filter
 *   `${category}-`, start after the given position, and after a dropped connection
 *   resubscribe from the last delivered event, so nothing is skipped or doubled. (The
 *   server's filter checkpoints are not used to move that point: a checkpoint can arrive
 *   while events before it still wait in the client's buffer.) A subscription stops
 *   reading once `subscriptionBuffer` events wait for its consumer; HTTP/2 flow control
 *   then holds the server back until the consumer catches up.
 */
export interface EventStoreDbStoreOptions {
  /** e.g. `esdb://localhost:2113?tls=false` */
  connectionString: string;
  codec?: EventCodec;
  /** How many event ids each adapter remembers for the other-stream check. Defaults to 100 000. */
  idMemory?: number;
  /** Delay before resubscribing after a dropped connection. Defaults to 250 ms. */
  resubscribeDelayMs?: number;
  /**
   * Most events queued per subscription before reading from the server pauses; reading
   * resumes once the consumer has taken the queue down to half. Without a bound, a slow
   * consumer (the projector) would hold all of `$all` in memory. Defaults to 1000.
   */
  subscriptionBuffer?: number;
  /**
   * How reads and appends cut off by a lost connection are made again before the store is
   * reported unavailable (`StoreUnavailableError`). Defaults to 3 calls, 100 ms apart then 200.
   */
  reconnect?: ReconnectPolicy;
}

const NO_POSITION = 2n ** 64n - 1n;
/** Events read from `$all` per round trip when filtering client-side. */
const SCAN_BATCH = 500n;
/** Rounds of read-decide-write before an append under constant contention gives up. */
const MAX_APPEND_ATTEMPTS = 20;

const isSystem = (streamName: string, type: string) => streamName.startsWith('$') || type.startsWith('$');

/** Where `name` goes in the ascending `names`. */
function sortedIndex(names: readonly string[], name: string): number {
  let [low, high] = [0, names.length];
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (names[middle]! < name) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The metadata member that carries an event's link in its stream's hash chain (the hash does not cover it). */
const HASH_KEY = 'hash';

export function openEventStoreDbStore(options: EventStoreDbStoreOptions): EventStore {
  const codec = options.codec ?? ledgerEventCodec;
  const idMemory = options.idMemory ?? 100_000;
  const resubscribeDelayMs = options.resubscribeDelayMs ?? 250;
  const subscriptionBuffer = options.subscriptionBuffer ?? 1000;
  const reconnect = options.reconnect ?? { attempts: 3, delayMs: 100 };
  if (!Number.isSafeInteger(reconnect.attempts) || reconnect.attempts < 1 || !(reconnect.delayMs >= 0)) {
    throw new RangeError(`invalid reconnect policy ${JSON.stringify(reconnect)}`);
  }
  if (!Number.isSafeInteger(subscriptionBuffer) || subscriptionBuffer < 1) {
    throw new RangeError(`invalid subscription buffer ${String(subscriptionBuffer)}`);
  }
  const client = EventStoreDBClient.connectionString(options.connectionString);

  /** id → stream, in insertion order so the oldest are forgotten first. */
  const knownIds = new Map<string, string>();
  const remember = (eventId: string, streamName: string) => {
    knownIds.delete(eventId);
    knownIds.set(eventId, streamName);
    while (knownIds.size > idMemory) knownIds.delete(knownIds.keys().next().value!);
  };

  /** The event as stored; null for what the ledger does not read (system streams and events). */
  const storedOf = (resolved: ResolvedEvent | AllStreamResolvedEvent): StoredEvent | null => {
    const event = resolved.event;
    if (!event || isSystem(event.streamId, event.type)) return null;
    const position = event.position?.commit;
    // Servers that read a stream from its index alone have answered no position, or
    // 2^64 - 1, instead of the commit position: refuse rather than report a wrong one.
    if (position === undefined || position === NO_POSITION) {
      throw new Error(`event ${event.id} of ${event.streamId} came without its commit position`);
    }
    remember(event.id, event.streamId);
    // The chain's link rides in the metadata, last; without it the metadata is as the codec wrote it.
    const { [HASH_KEY]: hash, ...metadata } = (event.metadata ?? {}) as Record<string, unknown>;
    return {
      eventId: event.id,
      streamName: event.streamId,
      revision: event.revision,
      position,
      type: event.type,
      dataJson: event.isJson ? JSON.stringify(event.data) : Buffer.from(event.data).toString('utf8'),
      metadataJson: JSON.stringify(metadata),
      hash: typeof hash === 'string' ? hash : null,
    };
  };
  const decode = (resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | null => {
    const stored = storedOf(resolved);
    return stored && codec.decode(stored);
  };

  const readWholeStream = async (streamName: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> =>
    (await readStoredEvents(streamName, options)).map((stored) => codec.decode(stored));

  const readStoredEvents = async (
    streamName: string,
    { direction = 'forwards', fromRevision, maxCount }: ReadStreamOptions = {},
  ): Promise<StoredEvent[]> => {
    if (maxCount === 0) return [];
    const read: ResolvedEvent[] = [];
    try {
      // Read to the end before decoding: an event that fails to decode must not leave the
      // call unread (see lastPositionOf).
      for await (const resolved of client.readStream(streamName, {
        direction: direction === 'forwards' ? FORWARDS : BACKWARDS,
        fromRevision: fromRevision ?? (direction === 'forwards' ? START : END),
        ...(maxCount === undefined ? {} : { maxCount: BigInt(maxCount) }),
      })) {
        read.push(resolved);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return read.map(storedOf).filter((event) => event !== null);
  };

  /**
   * Reads `$all` forwards after a position (exclusive), keeping the category's events,
   * until `limit` are found or the log ends.
   */
  const scanAll = async (after: bigint, category: string | undefined, limit: number): Promise<StoredEvent[]> => {
    const found: StoredEvent[] = [];
    let from = after;
    while (found.length < limit) {
      let seen = 0;
      const kept: AllStreamResolvedEvent[] = [];
      // The whole page first, then decoding, as in readWholeStream.
      for await (const resolved of client.readAll({
        direction: FORWARDS,
        fromPosition: from === 0n ? START : { commit: from, prepare: from },
        maxCount: SCAN_BATCH,
      })) {
        seen++;
        const position = resolved.event?.position.commit;
        if (position === undefined || position <= from) continue;
        from = position;
        if (found.length + kept.length >= limit) continue;
        const { streamId, type } = resolved.event!;
        if (isSystem(streamId, type) || (category !== undefined && categoryOf(streamId) !== category)) continue;
        kept.push(resolved);
      }
      for (const event of kept.map(storedOf)) if (event) found.push(event);
      if (BigInt(seen) < SCAN_BATCH) break;
    }
    return found;
  };

  /**
   * The first `limit` stream names after `after`, in order. EventStoreDB lists no streams
   * without its system projections, so this reads `$all` to its end, keeping only the
   * smallest names seen: constant memory, but a whole scan per page (take large pages).
   */
  const streamNamesAfter = async (after: string, category: string | undefined, limit: number): Promise<string[]> => {
    const names: string[] = [];
    if (limit === 0) return names;
    let from: bigint | undefined;
    for (;;) {
      let seen = 0;
      for await (const resolved of client.readAll({
        direction: FORWARDS,
        fromPosition: from === undefined ? START : { commit: from, prepare: from },
        maxCount: SCAN_BATCH,
      })) {
        seen++;
        const event = resolved.event;
        if (!event || (from !== undefined && event.position.commit <= from)) continue;
        from = event.position.commit;
        const name = event.streamId;
        if (isSystem(name, event.type) || name <= after || (category !== undefined && categoryOf(name) !== category)) continue;
        if (names.length === limit && name >= names.at(-1)!) continue;
        const at = sortedIndex(names, name);
        if (names[at] === name) continue;
        names.splice(at, 0, name);
        if (names.length > limit) names.pop();
      }
      if (BigInt(seen) < SCAN_BATCH) return names;
    }
  };

  const subscriptions = new Set<Subscription>();
  let closed = false;
  const ensureOpen = () => {
    if (closed) throw new StoreClosedError();
  };

  const writeOnce = async (
    streamName: string,
    prepared: ReturnType<typeof prepareAppend>,
  ): Promise<AppendResult | 'moved'> => {
    const { events, expectedRevision } = prepared;
    const ids = new Set(events.map((event) => event.eventId));
    const stored = await readStoredEvents(streamName);
    const existing = stored.map((event) => codec.decode(event));
    const earlier = earlierResultOf(streamName, events, existing.filter((event) => ids.has(event.eventId)));
    if (earlier) return earlier;
    const current = existing.at(-1)?.revision ?? null;
    if (expectedRevisionMismatch(expectedRevision, current)) {
      throw new WrongExpectedRevisionError(streamName, expectedRevision, current);
    }
    const hashes = appendedHashes(headHash(stored), streamName, (current ?? -1n) + 1n, events);
    try {
      const result = await client.appendToStream(
        streamName,
        events.map((event, index) =>
          jsonEvent({ id: event.eventId, type: event.type, data: event.data, metadata: { ...event.metadata, [HASH_KEY]: hashes[index] } }),
        ),
        { expectedRevision: current === null ? NO_STREAM : current },
      );
      if (!result.position) throw new Error(`append to ${streamName} answered without a position`);
      for (const event of events) remember(event.eventId, streamName);
      return { revision: result.nextExpectedRevision, position: result.position.commit, hash: hashes.at(-1)!, alreadyRecorded: false };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) return 'moved';
      throw error;
    }
  };

  return {
    async append(streamName: string, events: readonly NewEvent[], appendOptions?: AppendOptions) {
      ensureOpen();
      const prepared = prepareAppend(codec, streamName, events, appendOptions);
      for (const event of prepared.events) {
        const known = knownIds.get(event.eventId);
        if (known !== undefined && known !== streamName) {
          throw new EventIdConflictError(event.eventId, streamName, 'otherStream');
        }
      }
      return appendInSpan('eventstoredb', streamName, events.length, appendOptions, async () => {
        for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
          const outcome = await reconnecting(() => writeOnce(streamName, prepared), reconnect);
          if (outcome !== 'moved') return outcome;
        }
        throw new Error(`append to ${streamName}: the stream kept moving; gave up after ${MAX_APPEND_ATTEMPTS} attempts`);
      });
    },

    async readStream(streamName: string, readOptions: ReadStreamOptions = {}) {
      ensureOpen();
      assertStreamName(streamName);
      const { direction = 'forwards', maxCount } = readOptions;
      assertMaxCount(maxCount);
      if (direction !== 'forwards' && direction !== 'backwards') {
        throw new InvalidStoreRequestError(`invalid direction ${String(direction)}`);
      }
      return reconnecting(() => readWholeStream(streamName, { ...readOptions, direction }), reconnect);
    },

    async readAll({ after = 0n, category, maxCount = DEFAULT_READ_ALL_PAGE }: ReadAllOptions = {}) {
      ensureOpen();
      assertMaxCount(maxCount);
      return (await reconnecting(() => scanAll(after, category, maxCount), reconnect)).map((stored) => codec.decode(stored));
    },

    async readStoredStream(streamName: string) {
      ensureOpen();
      assertStreamName(streamName);
      return reconnecting(() => readStoredEvents(streamName), reconnect);
    },

    async readStoredAll({ after = 0n, category, maxCount = DEFAULT_READ_ALL_PAGE }: ReadAllOptions = {}) {
      ensureOpen();
      assertMaxCount(maxCount);
      return reconnecting(() => scanAll(after, category, maxCount), reconnect);
    },

    async readStreamNames({ after = '', category, maxCount = DEFAULT_READ_ALL_PAGE }: ReadStreamNamesOptions = {}) {
      ensureOpen();
      assertMaxCount(maxCount);
      return reconnecting(() => streamNamesAfter(after, category, maxCount), reconnect);
    },

    subscribe({ after = 0n, category }: SubscribeOptions = {}) {
      ensureOpen();
      const subscription = subscribeToAll(after, category, resubscribeDelayMs, subscriptionBuffer, (ended) =>
        subscriptions.delete(ended),
      );
      subscriptions.add(subscription);
      return subscription;
    },

    async lastPosition({ category }: { category?: string } = {}) {
      ensureOpen();
      return reconnecting(() => lastPositionOf(category), reconnect);
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      await client.dispose();
    },
  };

  /** The position of the newest event of `category` (of any, when undefined); 0 when none. */
  async function lastPositionOf(category: string | undefined): Promise<bigint> {
    let before: bigint | undefined;
    for (;;) {
      let seen = 0;
      let found: bigint | undefined;
      const read = client.readAll({
        direction: BACKWARDS,
        fromPosition: before === undefined ? END : { commit: before, prepare: before },
        maxCount: SCAN_BATCH,
      });
      // Read to the end of the page even once found: leaving the loop early leaves the
      // gRPC call unread in the client, which keeps it, and whose dispose() waits on it for ever.
      for await (const resolved of read) {
        seen++;
        const event = resolved.event;
        if (!event || found !== undefined) continue;
        if (before !== undefined && event.position.commit >= before) continue;
        before = event.position.commit;
        if (isSystem(event.streamId, event.type)) continue;
        if (category === undefined || categoryOf(event.streamId) === category) found = event.position.commit;
      }
      if (found !== undefined) return found;
      if (BigInt(seen) < SCAN_BATCH) return 0n;
    }
  }

  function subscribeToAll(
    after: bigint,
    category: string | undefined,
    delayMs: number,
    bufferSize: number,
    onEnd: (subscription: Subscription) => void,
  ): Subscription {
    const queue: Array<SubscriptionMessage | { kind: 'error'; error: unknown }> = [];
    // Reading resumes at half the bound, not just below it, so that it does not stop and
    // start again for every event the consumer takes.
    const resumeAt = Math.floor(bufferSize / 2);
    let wake: (() => void) | null = null;
    let ended = false;
    let caughtUpSent = false;
    let checkpoint = after;
    let current: ReturnType<EventStoreDBClient['subscribeToAll']> | null = null;
    let retry: NodeJS.Timeout | null = null;

    const notify = () => {
      const resolve = wake;
      wake = null;
      resolve?.();
    };
    const push = (message: (typeof queue)[number]) => {
      queue.push(message);
      notify();
    };

    const start = () => {
      if (ended) return;
      const stream = client.subscribeToAll({
        fromPosition: checkpoint === 0n ? START : { commit: checkpoint, prepare: checkpoint },
        filter: category === undefined ? streamNameFilter({ regex: '^[^$]' }) : streamNameFilter({ prefixes: [`${category}-`] }),
      });
      current = stream;
      let delivered = 0;
      let caughtUpAfter: number | null = null;
      const maybeCaughtUp = () => {
        if (caughtUpAfter !== null && delivered >= caughtUpAfter) {
          caughtUpAfter = null;
          if (!caughtUpSent) {
            caughtUpSent = true;
            push({ kind: 'caughtUp' });
          }
        }
      };
      stream.on('data', (resolved: AllStreamResolvedEvent) => {
        delivered++;
        const position = resolved.event?.position.commit;
        if (position !== undefined && position > checkpoint) {
          checkpoint = position;
          try {
            const event = decode(resolved);
            if (event) push({ kind: 'event', event });
          } catch (error) {
            push({ kind: 'error', error });
          }
        }
        maybeCaughtUp();
        // Events not yet emitted stay in the stream's buffers, which then stop the pipe from
        // reading the call: the server is held back by flow control, not by our memory. (A
        // resubscription while the consumer is still behind pauses at its first event.)
        if (queue.length >= bufferSize) stream.pause();
      });
      // `caughtUp` is emitted while the events before it may still sit in the stream's
      // buffer (where they stay while it is paused): it takes its place after them.
      stream.on('caughtUp', () => {
        caughtUpAfter = delivered + stream.readableLength;
        maybeCaughtUp();
      });
      const dropped = (error?: unknown) => {
        if (ended || current !== stream) return;
        current = null;
        // A server going away answers UNAVAILABLE, or CANCELLED for the calls it had open.
        if (error !== undefined && !(error instanceof UnavailableError) && !(error instanceof CancelledError)) {
          push({ kind: 'error', error });
          return;
        }
        // A dropped connection: resubscribe after the last delivered event.
        retry = setTimeout(start, delayMs);
      };
      stream.on('error', (error: unknown) => dropped(error));
      stream.on('end', () => dropped());
    };

    const subscription: Subscription = {
      async close() {
        if (ended) return;
        ended = true;
        if (retry) clearTimeout(retry);
        const stream = current;
        current = null;
        onEnd(subscription);
        notify();
        if (stream) await stream.unsubscribe().catch(() => undefined);
      },
      [Symbol.asyncIterator]() {
        return {
          next: async (): Promise<IteratorResult<SubscriptionMessage>> => {
            for (;;) {
              if (ended) return { done: true, value: undefined };
              const message = queue.shift();
              if (queue.length <= resumeAt && current?.isPaused()) current.resume();
              if (message) {
                if (message.kind === 'error') {
                  await subscription.close();
                  throw message.error;
                }
                return { done: false, value: message };
              }
              await new Promise<void>((resolve) => (wake = resolve));
            }
          },
          return: async (): Promise<IteratorResult<SubscriptionMessage>> => {
            await subscription.close();
            return { done: true, value: undefined };
          },
        };
      },
    };
    start();
    return subscription;
  }
}
