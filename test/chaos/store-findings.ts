/**
 * What a ledger's SQLite file says about the acknowledgements its writers received, read
 * straight from the file (read-only), not through the ledger: every acknowledged event is
 * there once, where its acknowledgement said; nothing else is there; each stream's revisions
 * run 0, 1, 2… without a gap. Also each session's status in the read model, for the caller
 * to hold against the truth table.
 */
import Database from 'better-sqlite3';
import type { Acknowledged } from './chaos-workload.js';

export interface StoreFindings {
  /** Acknowledged events missing from the log. */
  lost: string[];
  /** Event ids recorded more than once. */
  doubled: string[];
  /** Acknowledged events recorded elsewhere than their acknowledgement said (stream, position, revision, type). */
  misplaced: string[];
  /** Events in the log that no answer acknowledged. */
  unexplained: string[];
  /** Streams whose revisions, in log order, are not 0, 1, 2… */
  gaps: string[];
}

interface EventRow {
  position: number;
  stream_name: string;
  revision: number;
  event_id: string;
  type: string;
}

export function storeFindings(path: string, acknowledged: readonly Acknowledged[]) {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const events = db.prepare('select position, stream_name, revision, event_id, type from events order by position').all() as EventRow[];
    const statuses = new Map(
      (db.prepare('select session_id, status from auth_sessions').all() as { session_id: string; status: string }[]).map((row) => [row.session_id, row.status]),
    );
    const findings: StoreFindings = { lost: [], doubled: [], misplaced: [], unexplained: [], gaps: [] };

    const byId = new Map<string, EventRow[]>();
    for (const event of events) byId.set(event.event_id, [...(byId.get(event.event_id) ?? []), event]);
    for (const [eventId, rows] of byId) if (rows.length > 1) findings.doubled.push(`${eventId} at positions ${rows.map((row) => row.position).join(', ')}`);

    const acknowledgedIds = new Set<string>();
    for (const ack of acknowledged) {
      acknowledgedIds.add(ack.eventId);
      const [stored] = byId.get(ack.eventId) ?? [];
      if (stored === undefined) {
        findings.lost.push(`${ack.type} ${ack.eventId} of ${ack.sessionId}, acknowledged at position ${ack.position}`);
        continue;
      }
      const where = { stream: stored.stream_name, position: String(stored.position), revision: String(stored.revision), type: stored.type };
      const said = { stream: `authSession-${ack.sessionId}`, position: ack.position, revision: ack.revision, type: ack.type };
      if (JSON.stringify(where) !== JSON.stringify(said)) findings.misplaced.push(`${ack.eventId}: acknowledged ${JSON.stringify(said)}, recorded ${JSON.stringify(where)}`);
    }
    for (const event of events) {
      if (!acknowledgedIds.has(event.event_id)) findings.unexplained.push(`${event.type} ${event.event_id} at position ${event.position} in ${event.stream_name}`);
    }

    const revisions = new Map<string, number[]>();
    for (const event of events) revisions.set(event.stream_name, [...(revisions.get(event.stream_name) ?? []), event.revision]);
    for (const [stream, list] of revisions) {
      if (list.some((revision, index) => revision !== index)) findings.gaps.push(`${stream}: revisions ${list.join(', ')} in log order`);
    }
    return { findings, statuses, events: events.length };
  } finally {
    db.close();
  }
}
