import { closeSync, fdatasync, openSync } from 'node:fs';
import { StorageFaultError } from '../errors.js';

/**
 * Durable commits that do not hold the event loop. The write connection runs with
 * `synchronous = NORMAL`, so a COMMIT writes its frames to the WAL and returns without syncing
 * them; the store then syncs the WAL file here, on libuv's thread pool, and acknowledges the
 * commit's appends only once that sync returned: the durability of `synchronous = FULL`, with
 * the wait off the thread that serves requests. A sync covers every commit written before it
 * began, so commits made while one is running share the next one.
 *
 * It relies on what the system guarantees: `fdatasync` on any descriptor of a file writes that
 * file's pending pages; and on SQLite's WAL, whose frames are checksummed in a chain, so after
 * a power cut the log is kept up to the last whole commit that reached the disk, never past a
 * gap.
 */
export interface WalSync {
  /** Settles once everything committed before the call is on the disk; fails with a StorageFaultError. */
  afterCommit(): Promise<void>;
  /** Waits for the syncs asked for, then releases the file. */
  close(): Promise<void>;
}

/** The sync of a WAL file: `path` is the database's, `<path>-wal` the log's, which exists once the database is in WAL mode and written. */
export function walSyncOf(path: string): WalSync {
  const fd = openSync(`${path}-wal`, 'r');
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;

  const sync = (): Promise<void> => {
    const started = new Promise<void>((resolve, reject) => {
      fdatasync(fd, (error) => (error ? reject(faultOf(path, error)) : resolve()));
    }).finally(() => {
      if (running === started) running = null;
    });
    running = started;
    return started;
  };

  return {
    afterCommit() {
      if (running === null) return sync();
      // The running sync may have begun before this commit wrote: the next one covers it.
      queued ??= running
        .catch(() => {})
        .then(() => {
          queued = null;
          return sync();
        });
      return queued;
    },

    async close() {
      await (queued ?? running)?.catch(() => {});
      closeSync(fd);
    },
  };
}

/** A failed sync: what was committed may not be on the disk, so its appends are not acknowledged. */
function faultOf(path: string, error: NodeJS.ErrnoException): StorageFaultError {
  const code = error.code ?? 'unknown error';
  const kind = code === 'ENOSPC' || code === 'EDQUOT' ? 'disk-full' : 'io-error';
  return new StorageFaultError(kind, 'write', path, `fdatasync of the WAL: ${code}`, { cause: error });
}
