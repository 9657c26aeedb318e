import type { SessionRow } from '../projector/session-row.js';
import { toSessionJson } from './session-json.js';

/** An event's data, serialised already: written as it is. */
class SerialisedJson {
  constructor(readonly json: string) {}
}

/**
 * @fastify/sse's serializer for the watch routes: JSON, but data serialised already is
 * written as it is. One committed change goes to every watch of its session as the same row:
 * serialised once (below), not once per watch (10,000 times for 10,000 watches).
 */
export const sseSerializer = (data: unknown): string => (data instanceof SerialisedJson ? data.json : JSON.stringify(data));

const serialisedRows = new WeakMap<SessionRow, SerialisedJson>();

/** A row as a watch's `status` or `session` event data, serialised once per row object. */
export function sessionEventData(row: SessionRow): SerialisedJson {
  let data = serialisedRows.get(row);
  if (data === undefined) {
    data = new SerialisedJson(JSON.stringify(toSessionJson(row)));
    serialisedRows.set(row, data);
  }
  return data;
}
