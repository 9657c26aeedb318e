import { createHash } from 'node:crypto';
import type { StoredEvent } from '../events/index.js';

/**
 * The hash chain of a stream: each event's hash is SHA-256 over the previous event's hash
 * and this event as stored, so changing, removing or reordering any event of a stream
 * changes the hash of every event after it. Both adapters compute it at append with this
 * code, and auditors recompute it from an export with a few lines of their own:
 *
 *   hash(n) = hex(SHA-256(UTF-8(join("\n", [hash(n-1), streamName, revision, eventId, type, data, metadata]))))
 *
 * where `hash(-1)` is 64 zeros, `revision` is decimal, and `data` and `metadata` are the
 * JSON texts as stored: what `JSON.stringify` writes of them (no spaces, keys in stored order).
 * None of the parts can hold a newline (JSON escapes it; names and ids are checked), so the
 * join is unambiguous.
 */

/** The hash before a stream's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** The part of a stored event its hash covers. */
export type Hashed = Pick<StoredEvent, 'streamName' | 'revision' | 'eventId' | 'type' | 'dataJson' | 'metadataJson'>;

/** One link of the chain: the hash of `event`, which follows the event whose hash is `previous`. */
export function eventHash(previous: string, event: Hashed): string {
  const { streamName, revision, eventId, type, dataJson, metadataJson } = event;
  const text = [previous, streamName, revision.toString(), eventId, type, dataJson, metadataJson].join('\n');
  const hash = createHash('sha256');
  // Stryker disable next-line StringLiteral: equivalent, an empty encoding is UTF-8 too; named as the formula above names it.
  hash.update(text, 'utf8');
  return hash.digest('hex');
}

/** The hashes of events that follow the one whose hash is `previous`, in order. */
export function chainHashes(previous: string, events: readonly Hashed[]): string[] {
  let hash = previous;
  return events.map((event) => (hash = eventHash(hash, event)));
}

/** The hashes of an append's events, the first at `revision`, after the stream's head hash `previous`. */
export function appendedHashes(
  previous: string,
  streamName: string,
  revision: bigint,
  events: readonly Pick<Hashed, 'eventId' | 'type' | 'dataJson' | 'metadataJson'>[],
): string[] {
  return chainHashes(previous, events.map((event, index) => ({ ...event, streamName, revision: revision + BigInt(index) })));
}

/**
 * The hash a stream's next event links to, given the stream as stored (forwards, from its
 * first event). Events recorded before the chain existed carry no hash; they are never
 * rewritten, and the first chained event links to the hash they would have had, so editing
 * them still breaks the chain.
 */
export function headHash(stream: readonly StoredEvent[]): string {
  const last = stream.at(-1);
  if (last === undefined) return GENESIS_HASH;
  return last.hash ?? chainHashes(GENESIS_HASH, stream).at(-1)!;
}

/** Where a stream's chain no longer holds: the first revision whose stored hash is not the one its place gives. */
export interface ChainBreak {
  streamName: string;
  revision: bigint;
  /** What breaks there: a hash that does not match, or a revision out of sequence (an event missing or moved). */
  reason: 'hash' | 'sequence';
}

/**
 * Checks a stream as stored (forwards, from its first event): revisions 0, 1, 2… with no gap,
 * and each stored hash the one the chain gives. Events without a hash (recorded before the
 * chain) are hashed for the links after them, but have nothing of their own to check.
 */
export function chainBreakOf(stream: readonly StoredEvent[]): ChainBreak | null {
  let previous = GENESIS_HASH;
  for (const [index, event] of stream.entries()) {
    if (event.revision !== BigInt(index)) return { streamName: event.streamName, revision: event.revision, reason: 'sequence' };
    const hash = eventHash(previous, event);
    if (event.hash !== null && event.hash !== hash) return { streamName: event.streamName, revision: event.revision, reason: 'hash' };
    previous = hash;
  }
  return null;
}
