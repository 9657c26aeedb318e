import type { EventCodec, PreparedEvent } from '../events/index.js';
import { InvalidStoreRequestError } from './errors.js';
import type { AppendOptions, ExpectedRevision } from './port.js';

export interface AppendRequest {
  streamName: string;
  events: PreparedEvent[];
  expectedRevision: ExpectedRevision;
}

// `$` starts EventStoreDB's system streams; whitespace and control characters have no
// place in a name that ends up in URLs and logs.
const STREAM_NAME = /^[A-Za-z0-9][^\s\p{Cc}]{0,255}$/u;

export function assertStreamName(streamName: unknown): asserts streamName is string {
  if (typeof streamName !== 'string' || !STREAM_NAME.test(streamName)) {
    throw new InvalidStoreRequestError(`invalid stream name ${JSON.stringify(streamName)}`);
  }
}

function assertExpectedRevision(expected: unknown): asserts expected is ExpectedRevision {
  const named = expected === 'any' || expected === 'no_stream' || expected === 'stream_exists';
  if (!named && !(typeof expected === 'bigint' && expected >= 0n)) {
    throw new InvalidStoreRequestError(`invalid expected revision ${String(expected)}`);
  }
}

/**
 * Validates an append the same way for every adapter, before any I/O: the stream name,
 * the expected revision, every event against its schema, and the ids' uniqueness within
 * the append. Throws and writes nothing on the first problem.
 */
export function prepareAppend(
  codec: EventCodec,
  streamName: string,
  events: readonly unknown[],
  options: AppendOptions = {},
): AppendRequest {
  assertStreamName(streamName);
  const expectedRevision = options.expectedRevision ?? 'any';
  assertExpectedRevision(expectedRevision);
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidStoreRequestError('an append needs at least one event');
  }
  const prepared = events.map((event) => codec.prepare(event));
  const ids = new Set(prepared.map((event) => event.eventId));
  if (ids.size !== prepared.length) {
    throw new InvalidStoreRequestError('an append names the same event id twice');
  }
  return { streamName, events: prepared, expectedRevision };
}

/** The port's page size of `readAll` when the caller names none. */
export const DEFAULT_READ_ALL_PAGE = 1000;

/** A read's `maxCount`, checked the same way by every adapter. */
export function assertMaxCount(maxCount: number | undefined): void {
  if (maxCount !== undefined && (!Number.isSafeInteger(maxCount) || maxCount < 0)) {
    throw new InvalidStoreRequestError(`invalid max count ${String(maxCount)}`);
  }
}

/** Whether the stream is not where the writer expected it. */
export function expectedRevisionMismatch(expected: ExpectedRevision, current: bigint | null): boolean {
  if (expected === 'any') return false;
  if (expected === 'no_stream') return current !== null;
  if (expected === 'stream_exists') return current === null;
  return current !== expected;
}
