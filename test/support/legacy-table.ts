/**
 * Legacy `auth_sessions` tables for the import tests: a CSV as psql's
 * `\copy (select …) to … csv header` writes it (NULL as an empty unquoted field, an empty
 * string as `""`, quotes doubled, line breaks kept inside quotes), and a SQLite file holding
 * the table, each with what an import of it must report.
 */
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { SessionStatus } from '../../src/contract/index.js';

export const LEGACY_HEADER = [
  'session_id',
  'user_id',
  'provider',
  'browser_vm_id',
  'status',
  'completed_at',
  'error_message',
  'created_at',
  'updated_at',
] as const;

export type LegacyTestRow = Record<(typeof LEGACY_HEADER)[number], string | null>;

/** A field as psql's CSV writes it: NULL empty and bare, "" quoted, quoted when it must be. */
export function psqlField(value: string | null): string {
  if (value === null) return '';
  if (value === '' || /[",\r\n]/.test(value)) return `"${value.replaceAll('"', '""')}"`;
  return value;
}

/** A row that imports: what the ledger must then say of it. */
export interface GoodRow {
  sessionId: string;
  status: SessionStatus;
  /** The read model's `error_message` of a failed row. */
  errorMessage: string | null;
  /** The read model's `completed_at` of a completed row (ISO, milliseconds). */
  completedAt: string | null;
  createdAt: string;
}

/** A row that is skipped: its first line, and a pattern its reason matches. */
export interface BrokenRow {
  line: number;
  sessionId: string | null;
  reason: RegExp;
}

export interface GeneratedLegacyCsv {
  /** Data rows in the file (the header is not one). */
  rows: number;
  imported: Record<SessionStatus, number>;
  /** Rows that repeat an earlier row exactly: already there on the first run too. */
  exactDuplicates: number;
  good: GoodRow[];
  broken: BrokenRow[];
}

const STATUSES: readonly SessionStatus[] = ['pending', 'completed', 'failed', 'cancelled'];
const PROVIDERS = ['gemini', 'codex', 'claude-code'];
const BASE = Date.parse('2024-03-01T00:00:00.000Z');

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * A time written in one of the ways the import accepts, cycling with `i`, and the instant
 * it names as `toISOString()` gives it (microseconds truncated).
 */
function timestampOf(ms: number, i: number): { text: string; iso: string } {
  const d = new Date(ms);
  const utc = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = (date: Date) => `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  const millis = pad(d.getUTCMilliseconds(), 3);
  switch (i % 5) {
    case 0: // psql, milliseconds, UTC
      return { text: `${utc} ${time(d)}.${millis}+00`, iso: d.toISOString() };
    case 1: {
      // psql, microseconds, +05:30: the wall clock is 5 h 30 ahead
      const local = new Date(ms + 330 * 60_000);
      const day = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
      return { text: `${day} ${time(local)}.${millis}417+05:30`, iso: d.toISOString() };
    }
    case 2: {
      // psql, whole seconds, -03
      const whole = new Date(Math.floor(ms / 1000) * 1000);
      const local = new Date(whole.getTime() - 3 * 3_600_000);
      const day = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
      return { text: `${day} ${time(local)}-03`, iso: whole.toISOString() };
    }
    case 3: // ISO 8601, Z
      return { text: d.toISOString().replace('.000Z', 'Z'), iso: d.toISOString() };
    default: // no offset at all: UTC
      return { text: `${utc} ${time(d)}.${millis}`, iso: d.toISOString() };
  }
}

const ERROR_MESSAGES: readonly (string | null)[] = [
  'OAuth consent denied',
  'provider said: "invalid_grant", retry later',
  'stack:\n  at login (vm.js:1)\n  at main, "quoted"',
  null,
  '',
  ' padded ',
];

/**
 * Writes a legacy CSV of `rows` data rows: every status, every timestamp form, NULLs, empty
 * strings and error messages with commas, quotes and line breaks; among them, near the places
 * given by `brokenEvery`, broken rows of each kind (unknown status, bad timestamp, missing id
 * both NULL and "", a duplicate id with other content both ways round, a short row, a value the
 * schemas refuse) and one exact duplicate. Returns what an import must report.
 */
export function writeLegacyCsv(path: string, rows: number, { brokenEvery = 499 } = {}): GeneratedLegacyCsv {
  const lines: string[] = [LEGACY_HEADER.join(',')];
  let line = 2;
  const good: GoodRow[] = [];
  const broken: BrokenRow[] = [];
  const imported: Record<SessionStatus, number> = { pending: 0, completed: 0, failed: 0, cancelled: 0 };
  let exactDuplicates = 0;
  const written: LegacyTestRow[] = [];
  const completedRows: LegacyTestRow[] = [];

  const emit = (row: LegacyTestRow | string[]) => {
    const text = Array.isArray(row) ? row.join(',') : LEGACY_HEADER.map((column) => psqlField(row[column])).join(',');
    const at = line;
    lines.push(text);
    line += 1 + (text.match(/\n/g)?.length ?? 0);
    return at;
  };

  let kind = 0;
  for (let i = 0; i < rows; i++) {
    if (i > 0 && i % brokenEvery === 0 && written.length > 0) {
      const breakKind = kind++ % 9;
      const base = { ...written[Math.floor(written.length / 2)]! };
      const sessionId = `broken-${i}`;
      if (breakKind === 0) {
        broken.push({ line: emit({ ...base, session_id: sessionId, status: 'expired' }), sessionId, reason: /unknown status "expired"/ });
      } else if (breakKind === 1) {
        broken.push({ line: emit({ ...base, session_id: sessionId, created_at: 'yesterday' }), sessionId, reason: /created_at "yesterday" is not a timestamp/ });
      } else if (breakKind === 2) {
        broken.push({ line: emit({ ...base, session_id: null }), sessionId: null, reason: /session_id is missing/ });
      } else if (breakKind === 3) {
        broken.push({ line: emit({ ...base, session_id: '' }), sessionId: null, reason: /session_id is missing/ });
      } else if (breakKind === 4) {
        // The same id, another user: its SessionStarted differs.
        broken.push({ line: emit({ ...base, user_id: 'someone-else' }), sessionId: base.session_id, reason: /already in the ledger from a legacy row with other content/ });
      } else if (breakKind === 5) {
        // A completed row's id again, as pending: its one event is the completed row's first.
        const completed = completedRows[completedRows.length - 1]!;
        broken.push({
          line: emit({ ...completed, status: 'pending', completed_at: null }),
          sessionId: completed.session_id,
          reason: /already in the ledger from a legacy row with other content/,
        });
      } else if (breakKind === 6) {
        broken.push({ line: emit([sessionId, 'u', 'gemini', 'vm']), sessionId, reason: /Invalid Record Length: columns length is 9, got 4/ });
      } else if (breakKind === 7) {
        broken.push({
          line: emit({ ...base, session_id: sessionId, status: 'failed', error_message: 'x'.repeat(2001), updated_at: base.created_at }),
          sessionId,
          reason: /SessionFailed refused: invalid event: data\.errorMessage/,
        });
      } else {
        emit(base); // exactly the same row again: nothing new, already there
        exactDuplicates++;
      }
      continue;
    }
    const status = STATUSES[i % 4]!;
    const created = timestampOf(BASE + i * 60_123, i);
    const updated = timestampOf(BASE + i * 60_123 + 45_678, i + 1);
    const completedAt = i % 8 === 1 ? null : timestampOf(BASE + i * 60_123 + 30_001, i + 2);
    const message = ERROR_MESSAGES[Math.floor(i / 4) % ERROR_MESSAGES.length]!;
    const row: LegacyTestRow = {
      session_id: `legacy-${i}`,
      user_id: `user-${i % 37}`,
      provider: PROVIDERS[i % 3]!,
      browser_vm_id: `vm-${i}`,
      status,
      completed_at: status === 'completed' ? (completedAt?.text ?? null) : null,
      error_message: status === 'failed' ? message : i % 3 === 0 ? '' : null,
      created_at: created.text,
      updated_at: updated.text,
    };
    emit(row);
    written.push(row);
    if (status === 'completed') completedRows.push(row);
    imported[status]++;
    good.push({
      sessionId: row.session_id!,
      status,
      createdAt: created.iso,
      completedAt: status === 'completed' ? (completedAt?.iso ?? updated.iso) : null,
      errorMessage: status === 'failed' ? message || 'failed (the legacy row has no error message)' : null,
    });
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { rows, imported, exactDuplicates, good, broken };
}

/** A SQLite file holding an `auth_sessions` table (with a column the import ignores) and these rows. */
export function writeLegacySqlite(path: string, rows: readonly LegacyTestRow[]): void {
  const db = new Database(path);
  try {
    db.exec(`create table auth_sessions (
      session_id text primary key, user_id text, provider text, browser_vm_id text, status text not null,
      completed_at text, error_message text, created_at text, updated_at text, attempts integer default 0)`);
    const insert = db.prepare(
      `insert into auth_sessions (${LEGACY_HEADER.join(', ')}) values (${LEGACY_HEADER.map((column) => `@${column}`).join(', ')})`,
    );
    db.transaction(() => {
      for (const row of rows) insert.run(row);
    })();
  } finally {
    db.close();
  }
}
