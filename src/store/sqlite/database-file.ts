import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MissingDatabaseError } from '../errors.js';
import type { DatabaseAccess, SynchronousMode } from './sqlite-event-store.js';

/**
 * The SQLite file, opened as the command may: created with its folder, or only if it is
 * there (read-only or to write). A mistyped LEDGER_DB given to a reading command is then
 * a clear error, not a new empty database somewhere. A connection that may write is put in
 * WAL mode with the given `synchronous`; a read-only one takes the file as it is.
 */
export function openDatabaseFile(
  path: string,
  { access, busyTimeoutMs, synchronous }: { access: DatabaseAccess; busyTimeoutMs: number; synchronous: SynchronousMode },
): Database.Database {
  let db: Database.Database;
  if (access === 'create') {
    mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: busyTimeoutMs });
  } else {
    if (!existsSync(path)) throw new MissingDatabaseError(path);
    db = new Database(path, { timeout: busyTimeoutMs, readonly: access === 'read-only', fileMustExist: true });
  }
  if (!db.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
  }
  return db;
}
