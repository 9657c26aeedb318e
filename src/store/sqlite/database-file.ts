import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MissingDatabaseError, StorageFaultError } from '../errors.js';
import type { DatabaseAccess, SynchronousMode } from './sqlite-event-store.js';
import { storageFaultOf } from './storage-fault.js';

/** The folder the file goes in, created if missing; one that cannot be is said as such, with the system's reason. */
function createFolderOf(path: string): void {
  const folder = dirname(path);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new StorageFaultError('folder-not-created', 'open', path, `${folder}: ${code}`, { cause: error });
  }
}

/**
 * Writes one page of the file (its header's `user_version`, set to what it is): SQLite opens a
 * file it may not write read-only without a word, and finds out at the first write; a full
 * disk shows only then too. So a command that is to write finds out at start, not at its
 * first append. A file at SQLite's own page limit (`max_page_count`) takes that write, but no
 * new page: it is full too.
 */
export function probeWritable(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number | bigint;
  db.pragma(`user_version = ${version}`);
  const pages = BigInt(db.pragma('page_count', { simple: true }) as number | bigint);
  const limit = BigInt(db.pragma('max_page_count', { simple: true }) as number | bigint);
  if (pages >= limit) throw new StorageFaultError('disk-full', 'write', db.name, `SQLITE_FULL: max_page_count ${limit} reached`);
}

/**
 * The SQLite file, opened as the command may: created with its folder, or only if it is
 * there (read-only or to write). A mistyped LEDGER_DB given to a reading command is then
 * a clear error, not a new empty database somewhere. A connection that may write is put in
 * WAL mode with the given `synchronous`, and has written once; a read-only one takes the file
 * as it is. A file that is not a database, or cannot be written, is a `StorageFaultError`
 * naming the file and the fix.
 */
export function openDatabaseFile(
  path: string,
  { access, busyTimeoutMs, synchronous }: { access: DatabaseAccess; busyTimeoutMs: number; synchronous: SynchronousMode },
): Database.Database {
  if (access === 'create') createFolderOf(path);
  else if (!existsSync(path)) throw new MissingDatabaseError(path);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: busyTimeoutMs, readonly: access === 'read-only', fileMustExist: access !== 'create' });
    // Reads the header: a file that is not a database says so here.
    db.pragma('schema_version');
    if (!db.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${synchronous}`);
      probeWritable(db);
    }
    return db;
  } catch (error) {
    db?.close();
    throw storageFaultOf(error, path, 'open') ?? error;
  }
}
