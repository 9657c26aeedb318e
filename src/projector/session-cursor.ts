import { InvalidCursorError } from './read-model.js';

/**
 * Where a page of the session list ended: the sort key of its last row. The list is ordered
 * newest first by creation instant, then by session id, so the key is unique and the next
 * page starts strictly after it: rows inserted meanwhile cause neither gaps nor repeats
 * among the rows that were already there.
 */
export interface SortKey {
  /** The creation instant, in milliseconds since the epoch. */
  createdAtMs: number;
  sessionId: string;
}

/** Opaque to clients: base64url of a JSON pair, safe in a query string as it is. */
export function encodeCursor({ createdAtMs, sessionId }: SortKey): string {
  return Buffer.from(JSON.stringify([createdAtMs, sessionId]), 'utf8').toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function decodeCursor(cursor: string): SortKey {
  // Not echoed: whatever a caller put in a query is none of the answer's business.
  const invalid = () => new InvalidCursorError('invalid cursor: not one this ledger gave (pass back `nextCursor` as it came)');
  if (!BASE64URL.test(cursor)) throw invalid();
  let pair: unknown;
  try {
    pair = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(pair) || pair.length !== 2) throw invalid();
  const [createdAtMs, sessionId] = pair as unknown[];
  if (!Number.isSafeInteger(createdAtMs) || typeof sessionId !== 'string') throw invalid();
  return { createdAtMs: createdAtMs as number, sessionId };
}
