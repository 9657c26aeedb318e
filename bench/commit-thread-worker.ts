// Prototype (b), the worker's side: the thread that owns the write connection. It queues the
// appends that arrive, commits what has arrived in one transaction on setImmediate (so the
// appends posted while a commit was syncing make the next batch), and posts the
// acknowledgements back, only after the commit.
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { MAX_BATCH, openPrototypeLog, type PrototypeAck, type PrototypeAppend } from './commit-thread-log.js';

/** From the main thread to the worker. */
export type ToLogWorker = { kind: 'appends'; appends: PrototypeAppend[] } | { kind: 'close' };
/** From the worker to the main thread. */
export type FromLogWorker = { kind: 'ready' } | { kind: 'acks'; acks: PrototypeAck[]; commitMs: number } | { kind: 'closed' };

/**
 * What the worker is given. `startedAs` says how it was started: on this file itself, or as
 * the bench entry's child role (a bundled bench has no file of its own for the worker); only
 * the first starts the log from this module's top level.
 */
export interface LogWorkerData {
  path: string;
  startedAs: 'module' | 'role';
}

/** Serves the log at workerData's path to the main thread until it says close. */
export function serveLogToMainThread(): Promise<void> {
  const port = parentPort;
  if (port === null) return Promise.reject(new Error('the commit-thread log worker runs in a worker thread only'));
  const { path } = workerData as LogWorkerData;
  const log = openPrototypeLog(path);
  let queue: PrototypeAppend[] = [];
  let scheduled = false;

  const commitArrived = () => {
    const batch = queue.slice(0, MAX_BATCH);
    queue = queue.slice(batch.length);
    const begin = performance.now();
    const acks = log.commitBatch(batch);
    const message: FromLogWorker = { kind: 'acks', acks, commitMs: performance.now() - begin };
    port.postMessage(message);
  };
  const flush = () => {
    scheduled = false;
    commitArrived();
    if (queue.length > 0) schedule();
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  return new Promise((resolve) => {
    port.on('message', (message: ToLogWorker) => {
      if (message.kind === 'appends') {
        queue.push(...message.appends);
        schedule();
        return;
      }
      // Whatever is still queued is committed and answered before the connection closes.
      while (queue.length > 0) commitArrived();
      log.close();
      const closed: FromLogWorker = { kind: 'closed' };
      port.postMessage(closed);
      port.close();
      resolve();
    });
    const ready: FromLogWorker = { kind: 'ready' };
    port.postMessage(ready);
  });
}

if (!isMainThread && (workerData as Partial<LogWorkerData> | null)?.startedAs === 'module') await serveLogToMainThread();
