// What a store really kept, read back from its file by a connection of our own after the run:
// the check behind "acknowledged" (an append whose promise resolved).
import Database from 'better-sqlite3';

/** The distinct values of `column` in `table` of the SQLite file at `path`. */
export function storedStreams(path: string, table: string, column: string): Set<string> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return new Set(db.prepare(`select distinct ${column} from ${table}`).pluck().all() as string[]);
  } finally {
    db.close();
  }
}
