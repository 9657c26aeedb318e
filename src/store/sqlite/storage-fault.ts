import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { StorageFaultError, type StorageFaultKind } from '../errors.js';

/** SQLite's primary result codes that say the storage failed, and what each is. */
const faultOfPrimaryCode: Readonly<Record<string, StorageFaultKind>> = {
  SQLITE_FULL: 'disk-full',
  SQLITE_READONLY: 'read-only',
  SQLITE_IOERR: 'io-error',
  SQLITE_BUSY: 'busy',
  SQLITE_CANTOPEN: 'cannot-open',
  SQLITE_NOTADB: 'not-a-database',
  SQLITE_CORRUPT: 'corrupt',
};

/** The system's codes for a file that may not be written, whoever asks. */
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);

/** The system's code when this process may not write the file, else null. */
function notWritable(path: string): string | null {
  try {
    accessSync(path, constants.W_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    return NOT_WRITABLE.has(code) ? code : null;
  }
}

/**
 * A write that fails with an I/O error on a file the system no longer lets this process write
 * (made immutable, a file system remounted read-only): SQLite says only "I/O error", the
 * system says why. The WAL is where writes go between checkpoints.
 */
function readOnlyCause(path: string): string | null {
  for (const file of [path, `${path}-wal`]) {
    const code = notWritable(file);
    if (code !== null) return code;
  }
  return null;
}

/**
 * Whether the file system holding `path` has no room left for a page: SQLite says "I/O error"
 * when the shared-memory file cannot grow on a full disk, where the system said ENOSPC.
 */
function diskIsFull(path: string): boolean {
  try {
    const { bavail, bsize } = statfsSync(dirname(path));
    return bavail * bsize < 8192;
  } catch {
    return false;
  }
}

/**
 * The storage fault a better-sqlite3 error is, by its extended code (`SQLITE_IOERR_WRITE`
 * belongs to `SQLITE_IOERR`), else null: a constraint, a misuse, a bug are not the disk's.
 * `path` is the database file the connection has open.
 */
export function storageFaultOf(error: unknown, path: string, operation: StorageFaultError['operation']): StorageFaultError | null {
  if (error instanceof StorageFaultError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return null;
  const primary = /^SQLITE_[A-Z]+/.exec(code)![0];
  let kind = faultOfPrimaryCode[primary];
  if (kind === undefined) return null;
  let reason = code;
  if (kind === 'io-error' && operation !== 'read') {
    const cause = readOnlyCause(path);
    if (cause !== null) {
      kind = 'read-only';
      reason = `${code}, ${cause}`;
    } else if (diskIsFull(path)) {
      kind = 'disk-full';
      reason = `${code}, no space left on the device`;
    }
  }
  return new StorageFaultError(kind, operation, path, reason, { cause: error });
}

/** `fn`'s result, or its error as a storage fault where it is one. */
export function withStorageFaults<T>(path: string, operation: StorageFaultError['operation'], fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw storageFaultOf(error, path, operation) ?? error;
  }
}
