import { createReadStream, statSync } from 'node:fs';
import { extname } from 'node:path';
import Database from 'better-sqlite3';
import { parse, type CsvError, type InfoRecord, type Parser } from 'csv-parse';
import { LEGACY_COLUMNS } from '../contract/index.js';

// Reading a legacy `auth_sessions` table, a row at a time: from a CSV as psql's
// `\copy (select …) to … csv header` writes it, or from a SQLite file holding the table.
// Neither reader holds more than a chunk of the file (or one row) in memory.

type LegacyField = Exclude<keyof typeof LEGACY_COLUMNS, 'revision' | 'position' | 'anomalies'>;
/** A column of the legacy table. */
export type LegacyColumn = (typeof LEGACY_COLUMNS)[LegacyField];

/** The columns an import needs; others are ignored. */
export const LEGACY_TABLE_COLUMNS: readonly LegacyColumn[] = [
  LEGACY_COLUMNS.sessionId,
  LEGACY_COLUMNS.userId,
  LEGACY_COLUMNS.provider,
  LEGACY_COLUMNS.browserVmId,
  LEGACY_COLUMNS.status,
  LEGACY_COLUMNS.completedAt,
  LEGACY_COLUMNS.errorMessage,
  LEGACY_COLUMNS.createdAt,
  LEGACY_COLUMNS.updatedAt,
];

/** One legacy row's values, as text; `null` is SQL NULL, which is not the empty string. */
export type LegacyValues = Record<LegacyColumn, string | null>;

export type LegacyFormat = 'csv' | 'sqlite';
export const LEGACY_FORMATS: readonly LegacyFormat[] = ['csv', 'sqlite'];

/** What the reader found at one place of the file: a row, or something that is not one. */
export type LegacyRead = { line: number; /** How far through the file this is, in the source's unit (see `total`). */ progress: number } & (
  | { kind: 'row'; values: LegacyValues }
  | { kind: 'unreadable'; sessionId: string | null; reason: string }
);

export interface LegacySource {
  readonly format: LegacyFormat;
  /** How a place in the file is named: a CSV's physical `line`, a SQLite table's `row` (its rowid). */
  readonly placeName: 'line' | 'row';
  /** The file's size in bytes (CSV) or its number of rows (SQLite): what `progress` counts up to. */
  readonly total: number;
  /** Every row in file order; a CSV that stops parsing ends with one `unreadable` read saying so. */
  reads(): AsyncGenerator<LegacyRead>;
  close(): void;
}

/** The file cannot be imported at all (a missing column, not a database, no table): a usage error. */
export class LegacySourceError extends Error {
  override readonly name = 'LegacySourceError';
}

/** The format a file's name says (`.csv`; `.db`, `.sqlite`, `.sqlite3`), or null. */
export function formatOfPath(path: string): LegacyFormat | null {
  const extension = extname(path).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.db' || extension === '.sqlite' || extension === '.sqlite3') return 'sqlite';
  return null;
}

/**
 * Opens a legacy file and checks that it has every column the import needs, before any row
 * is read: a missing column (or a file that is not what its format says) is a
 * `LegacySourceError`.
 */
export async function openLegacySource(path: string, format: LegacyFormat): Promise<LegacySource> {
  return format === 'csv' ? CsvSource.open(path) : SqliteSource.open(path);
}

function missingColumns(columns: readonly string[]): LegacyColumn[] {
  return LEGACY_TABLE_COLUMNS.filter((column) => !columns.includes(column));
}

function missingColumnsError(path: string, missing: readonly LegacyColumn[]): LegacySourceError {
  return new LegacySourceError(
    `${path} has no ${missing.length === 1 ? 'column' : 'columns'} ${missing.join(', ')} (an auth_sessions export needs ${LEGACY_TABLE_COLUMNS.join(', ')})`,
  );
}

// ---- CSV ------------------------------------------------------------------------------------

const LF = 0x0a;
const CR = 0x0d;

function countLf(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

/**
 * Counts the LF characters of the file up to a byte offset, over the chunks the parser has
 * been given and not yet passed: so a row's line is the physical line an editor, `grep -n` or
 * `sed -n Np` shows, even when quoted values hold line breaks (csv-parse's own count takes
 * each CR and LF inside quotes as a line). Offsets asked for only grow; passed chunks are let go.
 */
class LineIndex {
  private readonly chunks: Buffer[] = [];
  /** The file offset of `chunks[0]`. */
  private headStart = 0;
  /** The offset up to which LFs are counted, and their number. */
  private cursor = 0;
  private lfs = 0;

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  private byteAt(offset: number): number | undefined {
    let start = this.headStart;
    for (const chunk of this.chunks) {
      if (offset < start + chunk.length) return chunk[offset - start];
      start += chunk.length;
    }
    return undefined;
  }

  /** Where a record's content ends, given csv-parse's `bytes` (which may or may not include its line break). */
  contentEnd(bytes: number): number {
    let end = bytes;
    while (end > this.cursor && (this.byteAt(end - 1) === LF || this.byteAt(end - 1) === CR)) end--;
    return end;
  }

  /** The line of the first byte at or after `offset` that is not a line break: where the next record starts. */
  lineFrom(offset: number): number {
    let start = offset;
    for (let byte = this.byteAt(start); byte === LF || byte === CR; byte = this.byteAt(start)) start++;
    return 1 + this.lfsBefore(start);
  }

  /** How many LFs come before `offset`. */
  lfsBefore(offset: number): number {
    while (this.cursor < offset && this.chunks.length > 0) {
      const head = this.chunks[0]!;
      const headEnd = this.headStart + head.length;
      const upTo = Math.min(offset, headEnd);
      for (let at = head.indexOf(LF, this.cursor - this.headStart); at !== -1 && at < upTo - this.headStart; at = head.indexOf(LF, at + 1)) {
        this.lfs++;
      }
      this.cursor = upTo;
      if (upTo === headEnd) {
        this.chunks.shift();
        this.headStart = headEnd;
      }
    }
    return this.lfs;
  }
}

type CsvRecord = Record<string, string | null>;

/** Far more than a legacy row holds; a runaway quote stops here instead of reading the file into one field. */
const MAX_RECORD_BYTES = 1 << 20;

/**
 * The CSV reader: the file's chunks are fed to csv-parse one at a time, and each chunk's
 * records are taken (through `on_record`) before the next is read, so memory holds one chunk's
 * rows, and a syntax error (a stray quote) ends the reads after every row before it.
 */
class CsvSource implements LegacySource {
  readonly format = 'csv';
  readonly placeName = 'line';
  private readonly lines = new LineIndex();
  private readonly parser: Parser;
  private readonly chunks: AsyncIterator<Buffer>;
  private queue: LegacyRead[] = [];
  private header: string[] | null = null;
  /** Where the last record (or the header) ends: a syntax error is in the record after it. */
  private lastEnd = 0;
  private failure: CsvError | null = null;
  private ended = false;

  private constructor(
    path: string,
    readonly total: number,
  ) {
    const file = createReadStream(path);
    this.chunks = (file as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    this.parser = parse<CsvRecord>({
      bom: true,
      columns: (header: string[]) => {
        this.header = header.map((name) => name.trim());
        this.lastEnd = this.lines.contentEnd(this.parser.info.bytes);
        return this.header;
      },
      // psql writes NULL as an empty unquoted field and an empty string as "".
      cast: (value, context) => (!context.header && value === '' && !context.quoting ? null : value),
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: MAX_RECORD_BYTES,
      // With `raw`, each record comes as `{ record, raw }`; none is passed on: the queue takes them.
      on_record: (withRaw, context) => {
        this.queue.push(this.readOf((withRaw as unknown as { record: CsvRecord }).record, context));
        return null;
      },
    });
    this.parser.on('error', (error: CsvError) => {
      this.failure ??= error;
    });
  }

  static async open(path: string): Promise<CsvSource> {
    const source = new CsvSource(path, statSync(path).size);
    try {
      while (source.header === null && !source.ended && source.failure === null) await source.feed();
    } catch (error) {
      source.close();
      throw new LegacySourceError(`${path} cannot be read: ${(error as Error).message}`);
    }
    if (source.header === null) {
      source.close();
      throw new LegacySourceError(
        source.failure ? `${path} cannot be read as CSV: ${source.failure.message}` : `${path} is empty: a CSV with a header line is expected`,
      );
    }
    const missing = missingColumns(source.header);
    if (missing.length > 0) {
      source.close();
      throw missingColumnsError(path, missing);
    }
    return source;
  }

  private readOf(record: CsvRecord, context: InfoRecord): LegacyRead {
    const content = (context.raw ?? '').replace(/^[\r\n]+/, '').replace(/[\r\n]+$/, '');
    const end = this.lines.contentEnd(context.bytes);
    this.lastEnd = end;
    const line = 1 + this.lines.lfsBefore(end) - countLf(content);
    const sessionId = typeof record.session_id === 'string' ? record.session_id : null;
    if (context.error) {
      // `relax_column_count` hands over a row with too few or too many fields, marked.
      const reason = context.error.message.replace(/ on line \d+$/, '');
      return { kind: 'unreadable', line, progress: context.bytes, sessionId, reason };
    }
    const values = Object.fromEntries(LEGACY_TABLE_COLUMNS.map((column) => [column, record[column] ?? null])) as LegacyValues;
    return { kind: 'row', line, progress: context.bytes, values };
  }

  /** Gives the parser the next chunk (or the end); its rows land in the queue. */
  private async feed(): Promise<void> {
    const next = await this.chunks.next();
    if (next.done === true) {
      this.ended = true;
      await new Promise<void>((resolve) => {
        this.parser.once('error', () => resolve());
        this.parser.end(() => resolve());
      });
      return;
    }
    this.lines.add(next.value);
    await new Promise<void>((resolve) => this.parser.write(next.value, () => resolve()));
  }

  async *reads(): AsyncGenerator<LegacyRead> {
    try {
      for (;;) {
        const ready = this.queue;
        this.queue = [];
        yield* ready;
        if (this.failure !== null) {
          yield {
            kind: 'unreadable',
            line: this.lines.lineFrom(this.lastEnd),
            progress: this.total,
            sessionId: null,
            reason: `the CSV cannot be parsed from this row on (${this.failure.message.replace(/ at line \d+/, '')}); nothing after it is read`,
          };
          return;
        }
        if (this.ended) return;
        await this.feed();
      }
    } finally {
      this.close();
    }
  }

  close(): void {
    void this.chunks.return?.();
    if (!this.parser.destroyed) this.parser.destroy();
  }
}

// ---- SQLite ---------------------------------------------------------------------------------

const ROWID = 'legacy rowid';

/** The SQLite reader: the table's rows by rowid, one at a time from a read-only connection. */
class SqliteSource implements LegacySource {
  readonly format = 'sqlite';
  readonly placeName = 'row';

  private constructor(
    private readonly db: Database.Database,
    readonly total: number,
  ) {}

  static open(path: string): SqliteSource {
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true });
    } catch (error) {
      throw new LegacySourceError(`${path} cannot be opened as SQLite: ${(error as Error).message}`);
    }
    try {
      const columns = db
        .prepare('select * from auth_sessions')
        .columns()
        .map((column) => column.name);
      const missing = missingColumns(columns);
      if (missing.length > 0) throw missingColumnsError(path, missing);
      const total = db.prepare('select count(*) from auth_sessions').pluck().get() as number;
      return new SqliteSource(db, total);
    } catch (error) {
      db.close();
      if (error instanceof LegacySourceError) throw error;
      throw new LegacySourceError(`${path} cannot be read as a SQLite file with an auth_sessions table: ${(error as Error).message}`);
    }
  }

  async *reads(): AsyncGenerator<LegacyRead> {
    try {
      const rows = this.db.prepare(`select rowid as "${ROWID}", * from auth_sessions order by rowid`).iterate() as IterableIterator<Record<string, unknown>>;
      let done = 0;
      for (const row of rows) {
        done++;
        yield readOfSqliteRow(row, done);
      }
    } finally {
      this.close();
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function readOfSqliteRow(row: Record<string, unknown>, progress: number): LegacyRead {
  const line = Number(row[ROWID]);
  const values: Partial<LegacyValues> = {};
  const sessionId = typeof row.session_id === 'string' || typeof row.session_id === 'number' ? String(row.session_id) : null;
  for (const column of LEGACY_TABLE_COLUMNS) {
    const value = row[column];
    if (value === null || value === undefined) values[column] = null;
    else if (typeof value === 'string') values[column] = value;
    else if (typeof value === 'number' || typeof value === 'bigint') values[column] = String(value);
    else return { kind: 'unreadable', line, progress, sessionId, reason: `${column} holds binary data, not text` };
  }
  return { kind: 'row', line, progress, values: values as LegacyValues };
}
