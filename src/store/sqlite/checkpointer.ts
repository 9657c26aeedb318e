import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints off the event loop. At a checkpoint SQLite copies the WAL back into the database
 * file and syncs both; run by the connection that commits (SQLite's automatic checkpoint, every
 * 1,000 pages of WAL), it would hold the event loop for tens of milliseconds every few hundred
 * appends. Here a connection of its own, in a worker thread, runs a PASSIVE checkpoint (it never
 * blocks a writer or a reader) each time enough events were appended. The connections on the
 * event loop keep SQLite's automatic checkpoint only as a safety net, at a higher threshold,
 * should this one fall behind or stop.
 */

/** Events appended between two checkpoints: about 1 MiB of WAL. */
export const EVENTS_PER_CHECKPOINT = 512;

/** SQLite's own threshold for its automatic checkpoint, in pages of WAL. */
export const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/** The automatic checkpoint of the connections on the event loop: 10,000 pages, 40 MiB of WAL. */
export const SAFETY_NET_CHECKPOINT_PAGES = 10_000;

// The worker's code travels as a string, so it starts the same from compiled files, from
// TypeScript under a loader, and from a bundle; it finds the driver where this module does.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.path, { fileMustExist: true, timeout: workerData.busyTimeoutMs });
} catch (error) {
  // Said here: SQLite's error class does not survive the way to the parent as an 'error' event.
  parentPort.postMessage({ ok: false, error: String(error) });
  parentPort.close();
}
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true });
  } catch (error) {
    parentPort.postMessage({ ok: false, error: String(error) });
  }
});
`;

export interface Checkpointer {
  /** Counts appended events; past the threshold, asks for a checkpoint unless one runs. */
  appended(events: number): void;
  /** Ends the worker, after the checkpoint it runs. */
  close(): Promise<void>;
}

export interface CheckpointerOptions {
  path: string;
  busyTimeoutMs: number;
  /** The worker failed or a checkpoint did: the caller puts SQLite's automatic checkpoint back. */
  onFailure: (reason: string) => void;
}

/** A checkpointer for the database at `path`; its worker starts at the first checkpoint, so a store that appends little never starts one. */
export function createCheckpointer({ path, busyTimeoutMs, onFailure }: CheckpointerOptions): Checkpointer {
  let worker: { thread: Worker; exited: Promise<unknown> } | null = null;
  let since = 0;
  let running = false;
  let failed = false;

  const fail = (reason: string) => {
    if (failed) return;
    failed = true;
    onFailure(reason);
  };

  const start = () => {
    const started = new Worker(WORKER, {
      eval: true,
      workerData: { path, busyTimeoutMs, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
    });
    // A store left open must not keep the process alive for its checkpointer.
    started.unref();
    started.on('message', (answer: { ok: boolean; error?: string }) => {
      running = false;
      if (!answer.ok) fail(`checkpoint failed: ${answer.error}`);
    });
    started.on('error', (error) => fail(`checkpointer stopped: ${String(error)}`));
    return { thread: started, exited: new Promise((resolve) => started.once('exit', resolve)) };
  };

  return {
    appended(events) {
      since += events;
      if (failed || running || since < EVENTS_PER_CHECKPOINT) return;
      since = 0;
      running = true;
      worker ??= start();
      worker.thread.postMessage('checkpoint');
    },

    async close() {
      if (worker === null) return;
      // Held until it exited (an unref'd worker would let the process end first). A worker
      // that already stopped takes no message, and has exited.
      worker.thread.ref();
      worker.thread.postMessage('close');
      await worker.exited;
    },
  };
}
