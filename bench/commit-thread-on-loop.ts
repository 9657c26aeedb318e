// Prototype (a): group commit on the main thread. Appends made during one turn of the event
// loop are queued and written on setImmediate in one transaction; the commit, and so its
// fsync, runs on the thread that would also serve HTTP.
import { performance } from 'node:perf_hooks';
import { MAX_BATCH, openPrototypeLog, type PrototypeAck, type PrototypeAppend, type PrototypeAppender } from './commit-thread-log.js';

interface Waiting {
  append: PrototypeAppend;
  resolve: (ack: PrototypeAck) => void;
}

export function openOnLoopAppender(path: string): PrototypeAppender {
  const log = openPrototypeLog(path);
  let queue: Waiting[] = [];
  let scheduled = false;
  let tickets = 0;
  let commits = 0;
  let commitMs = 0;

  const flush = () => {
    scheduled = false;
    const batch = queue.slice(0, MAX_BATCH);
    queue = queue.slice(batch.length);
    const begin = performance.now();
    const acks = log.commitBatch(batch.map(({ append }) => append));
    commitMs += performance.now() - begin;
    commits++;
    // commitBatch answers in the order it was given.
    batch.forEach(({ resolve }, index) => resolve(acks[index]!));
    if (queue.length > 0) schedule();
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  return {
    append(append) {
      return new Promise((resolve) => {
        queue.push({ append: { ...append, ticket: tickets++ }, resolve });
        schedule();
      });
    },
    get commits() {
      return commits;
    },
    get commitMs() {
      return commitMs;
    },
    async close() {
      log.close();
    },
  };
}
