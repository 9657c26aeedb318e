import { SESSION_CATEGORY, sessionStreamName, type StoredEvent } from '../events/index.js';
import type { EventStore } from '../store/port.js';

/** Which events an export holds: after a position, optionally of one session, optionally recorded in a time range. */
export interface ExportFilter {
  /** Exclusive. Defaults to the start of the log. */
  after?: bigint | undefined;
  sessionId?: string | undefined;
  /** Inclusive bounds on each event's `recordedAt`, in milliseconds since the epoch. */
  since?: number | undefined;
  until?: number | undefined;
}

/**
 * One event as an export line: where it sits, what it is, and its hash, with `data` and
 * `metadata` as the stored JSON text itself, so `JSON.stringify` of the parsed line's
 * `data` and `metadata` gives back exactly the bytes the hash covers.
 */
export function exportLine(event: StoredEvent): string {
  return (
    `{"position":"${event.position}","streamName":${JSON.stringify(event.streamName)},"revision":"${event.revision}",` +
    `"eventId":${JSON.stringify(event.eventId)},"type":${JSON.stringify(event.type)},` +
    `"data":${event.dataJson},"metadata":${event.metadataJson},"hash":${JSON.stringify(event.hash)}}\n`
  );
}

/**
 * Small enough that V8 keeps a chunk among the young objects it frees cheaply (strings over
 * about 128 KiB go straight to the old generation, which grows until a full collection).
 */
const CHUNK_BYTES = 32 * 1024;

/** The lines of `events`, joined into chunks of about `CHUNK_BYTES`. */
function* chunksOf(events: readonly StoredEvent[]): Generator<string> {
  let chunk = '';
  for (const event of events) {
    chunk += exportLine(event);
    if (chunk.length >= CHUNK_BYTES) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

const recordedAtOf = (event: StoredEvent) => Date.parse((JSON.parse(event.metadataJson) as { recordedAt?: string }).recordedAt ?? '');

/**
 * The export's lines, in position order, in chunks of at most about `CHUNK_BYTES`: it reads the
 * next page of the log only when the consumer has taken the chunks of the last one (through a
 * stream's backpressure), so memory does not grow with the log.
 */
export async function* exportPages(store: EventStore, filter: ExportFilter = {}, pageSize = 1000): AsyncGenerator<string> {
  const { after = 0n, sessionId, since, until } = filter;
  const inRange = (event: StoredEvent) => {
    if (since === undefined && until === undefined) return true;
    const at = recordedAtOf(event);
    return (since === undefined || at >= since) && (until === undefined || at <= until);
  };
  if (sessionId !== undefined) {
    yield* chunksOf((await store.readStoredStream(sessionStreamName(sessionId))).filter((event) => event.position > after && inRange(event)));
    return;
  }
  for (let from = after; ; ) {
    const page = await store.readStoredAll({ after: from, category: SESSION_CATEGORY, maxCount: pageSize });
    if (page.length === 0) return;
    yield* chunksOf(page.filter(inRange));
    from = page.at(-1)!.position;
  }
}
