import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabaseFile } from './database-file.js';
import { storageFaultOf } from './storage-fault.js';

/** What a backup holds, read back from the copy itself. */
export interface BackupResult {
  file: string;
  bytes: number;
  /** The last event's position in the copy; 0n when it has none. */
  position: bigint;
  events: bigint;
  /** Where the copy's read model (`auth_sessions`) stands; a ledger started on the copy projects on from there. */
  readModelPosition: bigint;
}

/** Every page in one step: one read transaction, so the copy is the database at one moment, whatever other processes append. */
const ALL_PAGES = 0x7fffffff;

const syncFolderOf = (file: string) => {
  const folder = openSync(dirname(file), 'r');
  try {
    fsyncSync(folder);
  } finally {
    closeSync(folder);
  }
};

/**
 * Copies the ledger's database at `source` to `target` with SQLite's online backup API, while
 * other processes go on writing it (WAL: the copy's read transaction holds no one up). The
 * copy is written beside the target under another name, checked (`quick_check`), made one
 * self-contained file (rollback journal, no -wal beside it), synced, and only then renamed to
 * `target`: a file at `target` is always a whole backup, and one that was there before is
 * replaced at once (the caller decides whether it may be). `target`'s folder must exist.
 */
export async function backupDatabase(source: string, target: string): Promise<BackupResult> {
  const file = resolve(target);
  const partial = join(dirname(file), `.${basename(file)}.${process.pid}.partial`);
  const db = openDatabaseFile(source, { access: 'read-only', busyTimeoutMs: 5000, synchronous: 'FULL' });
  try {
    rmSync(partial, { force: true });
    await db.backup(partial, { progress: () => ALL_PAGES });
  } catch (error) {
    rmSync(partial, { force: true });
    // The copy is what is written: a full disk is the target's.
    throw storageFaultOf(error, partial, 'write') ?? error;
  } finally {
    db.close();
  }
  let result: Omit<BackupResult, 'bytes' | 'file'>;
  const copy = new Database(partial);
  try {
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`the copy does not pass quick_check: ${String(check)}`);
    copy.pragma('journal_mode = DELETE');
    copy.defaultSafeIntegers(true);
    const hasTable = (name: string) => copy.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(name) !== undefined;
    const { position, events } = hasTable('events')
      ? (copy.prepare('select coalesce(max(position), 0) as position, count(*) as events from events').get() as { position: bigint; events: bigint })
      : { position: 0n, events: 0n };
    // A file only the event store has opened has no read model yet.
    const readModelPosition = hasTable('projector_checkpoint')
      ? ((copy.prepare("select position from projector_checkpoint where name = 'auth_sessions'").pluck().get() as bigint | undefined) ?? 0n)
      : 0n;
    result = { position, events, readModelPosition };
  } catch (error) {
    copy.close();
    rmSync(partial, { force: true });
    throw error;
  }
  copy.close();
  renameSync(partial, file);
  syncFolderOf(file);
  return { file, bytes: statSync(file).size, ...result };
}
