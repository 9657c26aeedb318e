import type { SessionJson } from '../../src/contract/index.js';

// How a live change lands in the list the console shows, without moving what is there.

/** Newest first, as the ledger lists them. */
export function byNewest(a: SessionJson, b: SessionJson): number {
  return (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.sessionId.localeCompare(a.sessionId);
}

/**
 * The list after one live change: a row already shown is replaced where it stands (unless the
 * change is older than what it shows); a new session that `belongs` is put in its place by
 * creation time. A shown row whose status no longer matches the filter stays, with its new
 * status, rather than vanish from under the reader.
 */
export function withChange(rows: readonly SessionJson[], row: SessionJson, belongs: (row: SessionJson) => boolean): readonly SessionJson[] {
  const at = rows.findIndex((shown) => shown.sessionId === row.sessionId);
  if (at !== -1) {
    if (BigInt(rows[at]!.position) >= BigInt(row.position)) return rows;
    return rows.map((shown, index) => (index === at ? row : shown));
  }
  if (!belongs(row)) return rows;
  return [...rows, row].sort(byNewest);
}
