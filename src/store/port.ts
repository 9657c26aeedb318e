import type { NewEvent, RecordedEvent, StoredEvent } from '../events/index.js';

/**
 * The event store port. Two adapters implement it (SQLite, EventStoreDB) and one
 * conformance suite (`test/conformance/`) holds both to every rule written here.
 */

/**
 * What the writer believes about the stream before its append:
 * `any` (no check), `no_stream` (it has no event), `stream_exists` (it has at least one),
 * or the exact revision of its last event.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

export interface AppendOptions {
  /** Defaults to `any`. */
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event of the append (the stream's revision after it). */
  revision: bigint;
  /** Global position of the last event of the append. */
  position: bigint;
  /** The hash of the last event of the append: the stream's chain head after it (null only for a retry of an event recorded before the chain). */
  hash: string | null;
  /**
   * True when every event id of the append was already recorded in that stream with the
   * same type and data: the original result is returned and nothing is written.
   */
  alreadyRecorded: boolean;
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  /** Defaults to `forwards`. */
  direction?: Direction;
  /** Inclusive; defaults to the first revision (forwards) or the last (backwards). */
  fromRevision?: bigint;
  /** Defaults to every event. */
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events after this position. Defaults to the start of the store. */
  after?: bigint;
  /** Only streams of this category (the stream name's part before its first `-`). */
  category?: string;
  /** One page; defaults to 1000. Page on with `after` = the last position read. */
  maxCount?: number;
}

export interface ReadStreamNamesOptions {
  /** Exclusive: names after this one. Defaults to the first. */
  after?: string;
  /** Only streams of this category. */
  category?: string;
  /** One page; defaults to 1000. Page on with `after` = the last name read. */
  maxCount?: number;
}

export interface SubscribeOptions {
  /** Exclusive: deliver events after this position (a checkpoint). Defaults to the start. */
  after?: bigint;
  category?: string;
}

export type SubscriptionMessage =
  | { kind: 'event'; event: RecordedEvent }
  /** Every event that existed when the subscription started has been delivered; live from here. */
  | { kind: 'caughtUp' };

/** Catch-up, then live. One consumer; `close()` (or leaving the loop) ends it. */
export interface Subscription extends AsyncIterable<SubscriptionMessage> {
  close(): Promise<void>;
}

export interface EventStore {
  /**
   * Appends events to one stream atomically, or not at all. Each event is stored with its
   * link in the stream's hash chain (`hash-chain.ts`), computed here from the stream's head.
   *
   * Idempotency, the same for every adapter: when every event id of the append is already
   * in that stream with the same type and data, the original result (of the latest of
   * them) is returned and nothing is written, whatever the expected revision. An id
   * already used with other content or in another stream, or an append only some of whose
   * ids are recorded, is an `EventIdConflictError`. Otherwise a failed expected-revision check is a
   * `WrongExpectedRevisionError` carrying the current revision. An event that fails its
   * schema is an `InvalidEventError` (or `UnknownEventTypeError`), and nothing is written.
   */
  append(streamName: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;

  /** Events of one stream; an empty list when the stream has none. */
  readStream(streamName: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;

  /** One page of every stream's events in position order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;

  /** A stream's events exactly as stored, forwards and undecoded, with their hashes: what an audit checks. */
  readStoredStream(streamName: string): Promise<StoredEvent[]>;

  /** One page of every stream's events exactly as stored, in position order. */
  readStoredAll(options?: ReadAllOptions): Promise<StoredEvent[]>;

  /**
   * One page of the names of the streams that have events, in ascending order of their
   * UTF-16 code units (byte order for the ASCII names the ledger writes): how an audit walks
   * every stream with constant memory.
   */
  readStreamNames(options?: ReadStreamNamesOptions): Promise<string[]>;

  subscribe(options?: SubscribeOptions): Subscription;

  /** The position of the newest event (of a category, when given); 0n when there is none. */
  lastPosition(options?: { category?: string }): Promise<bigint>;

  /** Ends every subscription and releases the store. Later calls fail with `StoreClosedError`. */
  close(): Promise<void>;
}
