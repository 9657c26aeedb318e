import { LedgerError } from '../ledger-error.js';
import type { ExpectedRevision } from './port.js';

/** The stream is not where the writer expected it; nothing was written. */
export class WrongExpectedRevisionError extends LedgerError {
  override readonly name = 'WrongExpectedRevisionError';
  readonly code = 'wrong-expected-revision';
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    /** Revision of the stream's last event; `null` when the stream has none. */
    readonly current: bigint | null,
  ) {
    super(`${streamName}: expected revision ${String(expected)}, current ${current === null ? 'no stream' : current}`);
  }
}

export type EventIdConflictReason = 'otherContent' | 'otherStream' | 'partialRetry';

/** An event id the store has already recorded for something else; nothing was written. */
export class EventIdConflictError extends LedgerError {
  override readonly name = 'EventIdConflictError';
  readonly code = 'event-id-conflict';
  constructor(
    readonly eventId: string,
    readonly streamName: string,
    readonly reason: EventIdConflictReason,
  ) {
    const why = {
      otherContent: 'was recorded with another type or data',
      otherStream: 'was recorded in another stream',
      partialRetry: 'was recorded, but other ids of this append were not',
    }[reason];
    super(`event id ${eventId} ${why}; appending to ${streamName} refused`);
  }
}

/** A call the port does not accept (an empty append, a bad stream name, a bad count). */
export class InvalidStoreRequestError extends LedgerError {
  override readonly name = 'InvalidStoreRequestError';
  readonly code = 'invalid-store-request';
}

export class StoreClosedError extends LedgerError {
  override readonly name = 'StoreClosedError';
  readonly code = 'store-closed';
  constructor() {
    super('the event store is closed');
  }
}

/**
 * The store could not be reached, even after trying again: a server down, a cluster without
 * a leader. An append that fails so may or may not have been recorded; retrying it with the
 * same event ids is safe, the port's idempotency finds it if it was.
 */
export class StoreUnavailableError extends LedgerError {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'store-unavailable';
  constructor(options?: { cause?: unknown }) {
    super('the event store is not reachable', options);
  }
}

/** A command that needs a ledger was pointed at a database that is not there; nothing was created. */
export class MissingDatabaseError extends LedgerError {
  override readonly name = 'MissingDatabaseError';
  readonly code = 'missing-database';
  constructor(readonly path: string) {
    super(`no ledger database at ${path} (LEDGER_DB), and this command creates none: check the path, or start a ledger there with \`ledger serve\``);
  }
}

/**
 * What went wrong under the store: the disk, the file, or another process holding the file.
 * None of it is the caller's doing, and none of it is a bug of the ledger.
 */
export type StorageFaultKind =
  | 'disk-full'
  | 'read-only'
  | 'io-error'
  | 'busy'
  | 'cannot-open'
  | 'not-a-database'
  | 'corrupt'
  | 'folder-not-created';

/** What each fault is, in words an operator and a caller both read. */
const faultWords: Record<StorageFaultKind, string> = {
  'disk-full': 'the disk is full',
  'read-only': 'the database file or its folder is read-only',
  'io-error': 'the disk reported an I/O error',
  busy: 'another process holds the write lock',
  'cannot-open': 'the file cannot be opened',
  'not-a-database': 'the file is not a SQLite database',
  corrupt: 'the database file is corrupt',
  'folder-not-created': 'its folder cannot be created',
};

/** What the operator does about each, when the ledger cannot even start on the file. */
const faultFixes: Record<StorageFaultKind, string> = {
  'disk-full': 'free space on its disk, then start again',
  'read-only': 'make the file, its -wal and -shm files and its folder writable by this user (chmod, chown, chattr -i, or a read-write mount)',
  'io-error': 'check the disk and the file system (dmesg), or restore the file from a backup (ledger backup)',
  busy: 'another process holds its write lock for too long: stop it, or try again',
  'cannot-open': 'check the path, and that this user may read and write the file and its folder',
  'not-a-database': 'point LEDGER_DB at a ledger\'s database, or move this file away to start a new ledger there',
  corrupt: 'restore it from a backup (ledger backup), or look at it with sqlite3 <file> "pragma integrity_check"',
  'folder-not-created': 'create the folder with the right owner, or set LEDGER_DB to a path this user may write',
};

/**
 * The storage failed the store: a full disk, a file that cannot be written, a file that is not
 * a database. Nothing of a failed write was stored (SQLite rolls the transaction back), so a
 * write may be retried with the same event ids once the fault is gone. `open` faults stop a
 * command before it starts; `read` and `write` faults are answered 503 while they last.
 */
export class StorageFaultError extends LedgerError {
  override readonly name = 'StorageFaultError';
  readonly code = 'storage-fault';
  constructor(
    readonly kind: StorageFaultKind,
    readonly operation: 'open' | 'read' | 'write',
    /** The file (or, for a folder, the file it was to hold); in logs, never in an answer. */
    readonly path: string,
    /** What the layer below said: SQLite's extended code, or the system's error code. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    const what = `${faultWords[kind]} (${reason})`;
    super(
      operation === 'open' ? `cannot open the ledger database ${path} (LEDGER_DB): ${what}; ${faultFixes[kind]}` : `the store cannot ${operation} its database: ${what}`,
      options,
    );
    this.description = what;
  }

  /** The fault in words, with what the layer below said: "the disk is full (SQLITE_FULL)". */
  readonly description: string;
}
