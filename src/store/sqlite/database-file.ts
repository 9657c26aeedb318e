import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MissingDatabaseError } from '../errors.js';
import type { DatabaseAccess } from './sqlite-event-store.js';

/**
 * The SQLite file, opened as the command may: created with its folder, or only if it is
 * there (read-only or to write). A mistyped LEDGER_DB given to a reading command is then
 * a clear error, not a new empty database somewhere.
 */
export function openDatabaseFile(path: string, access: DatabaseAccess, busyTimeoutMs: number): Database.Database {
  if (access === 'create') {
    mkdirSync(dirname(path), { recursive: true });
    return new Database(path, { timeout: busyTimeoutMs });
  }
  if (!existsSync(path)) throw new MissingDatabaseError(path);
  return new Database(path, { timeout: busyTimeoutMs, readonly: access === 'read-only', fileMustExist: true });
}
