// Prototype (b), the main thread's side: appends are posted to a worker that owns the write
// connection (commit-thread-worker.ts), and each resolves when the worker's acknowledgement,
// sent after its commit, comes back. The main thread never waits for an fsync.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { PrototypeAck, PrototypeAppend, PrototypeAppender } from './commit-thread-log.js';
import type { FromLogWorker, LogWorkerData, ToLogWorker } from './commit-thread-worker.js';

/** The bench entry's child role that serves the log when the worker has no file of its own. */
export const LOG_WORKER_ROLE = 'commit-thread-worker';

/**
 * Where the worker starts: its compiled file beside this one (`npm run bench`), or its .ts
 * beside this one under a loader (the worker inherits the loader with process.execArgv); in a
 * bundle neither is there, and the bench's own entry is started again in the worker with
 * `--child commit-thread-worker`, as bench/child.ts starts a scenario's processes.
 */
function workerStart(path: string): { file: URL | string; data: LogWorkerData; argv: string[] } {
  for (const file of [new URL('./commit-thread-worker.js', import.meta.url), new URL('./commit-thread-worker.ts', import.meta.url)]) {
    if (file.protocol === 'file:' && existsSync(file)) return { file, data: { path, startedAs: 'module' }, argv: [] };
  }
  const entry = process.argv[1];
  if (entry === undefined) throw new Error('no file for the commit-thread worker, and no bench entry to start as one');
  return { file: entry, data: { path, startedAs: 'role' }, argv: ['--child', LOG_WORKER_ROLE] };
}

/** Starts the worker on a new log at `path`; resolves once it has opened the file. */
export function openInWorkerAppender(path: string): Promise<PrototypeAppender> {
  const { file, data, argv } = workerStart(path);
  const worker = new Worker(file, { workerData: data, argv });
  const waiting = new Map<number, (ack: PrototypeAck) => void>();
  let outbox: PrototypeAppend[] = [];
  let tickets = 0;
  let commits = 0;
  let commitMs = 0;
  let failure: Error | undefined;
  let closing = false;
  let ready: () => void = () => {};
  let closed: () => void = () => {};
  let failed: (error: Error) => void = () => {};

  // The appends of one turn go in one message: one structured clone per batch, not per append.
  const post = () => {
    const message: ToLogWorker = { kind: 'appends', appends: outbox };
    outbox = [];
    worker.postMessage(message);
  };

  worker.on('message', (message: FromLogWorker) => {
    if (message.kind === 'ready') ready();
    else if (message.kind === 'closed') closed();
    else {
      commits++;
      commitMs += message.commitMs;
      for (const ack of message.acks) {
        waiting.get(ack.ticket)?.(ack);
        waiting.delete(ack.ticket);
      }
    }
  });
  const fail = (error: Error) => {
    failure = error;
    failed(error);
    for (const [ticket, resolve] of waiting) resolve({ ticket, error: `the log worker failed: ${error.message}` });
    waiting.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (code !== 0 && !closing) fail(new Error(`the log worker exited with code ${code}`));
  });

  const appender: PrototypeAppender = {
    append(append) {
      if (failure !== undefined) return Promise.reject(failure);
      return new Promise((resolve) => {
        const ticket = tickets++;
        waiting.set(ticket, resolve);
        if (outbox.length === 0) setImmediate(post);
        outbox.push({ ...append, ticket });
      });
    },
    get commits() {
      return commits;
    },
    get commitMs() {
      return commitMs;
    },
    async close() {
      const done = new Promise<void>((resolve, reject) => {
        closed = resolve;
        failed = reject;
      });
      const message: ToLogWorker = { kind: 'close' };
      worker.postMessage(message);
      await done;
      closing = true;
      await worker.terminate();
    },
  };
  return new Promise((resolve, reject) => {
    ready = () => resolve(appender);
    failed = reject;
  });
}
