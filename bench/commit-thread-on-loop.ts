// Prototypes (a) and (c): group commit on the main thread. Appends made during one turn of the
// event loop are queued and written on setImmediate in one transaction. In (a) the commit, and
// so its fsync, runs on the thread that would also serve HTTP; in (c), as the ledger's store
// does, SQLite commits without syncing, the WAL is synced on libuv's thread pool
// (src/store/sqlite/wal-sync.ts) before the batch is acknowledged, and checkpointed by a
// worker (src/store/sqlite/checkpointer.ts).
import { performance } from 'node:perf_hooks';
import { createCheckpointer } from '../src/store/sqlite/checkpointer.js';
import { walSyncOf } from '../src/store/sqlite/wal-sync.js';
import { MAX_BATCH, openPrototypeLog, type PrototypeAck, type PrototypeAppend, type PrototypeAppender } from './commit-thread-log.js';

interface Waiting {
  append: PrototypeAppend;
  resolve: (ack: PrototypeAck) => void;
}

export function openOnLoopAppender(path: string, { syncOffLoop = false }: { syncOffLoop?: boolean } = {}): PrototypeAppender {
  const log = openPrototypeLog(path, { syncedByCaller: syncOffLoop });
  const walSync = syncOffLoop ? walSyncOf(path) : null;
  const checkpointer = syncOffLoop
    ? createCheckpointer({ path, busyTimeoutMs: 5000, onFailure: (reason) => console.error(`commit-thread: ${reason}`) })
    : null;
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
    checkpointer?.appended(batch.length);
    // commitBatch answers in the order it was given.
    const acknowledge = () => batch.forEach(({ resolve }, index) => resolve(acks[index]!));
    if (walSync === null) acknowledge();
    else
      walSync.afterCommit().then(acknowledge, (error: unknown) => {
        const reason = `not synced: ${error instanceof Error ? error.message : String(error)}`;
        batch.forEach(({ append, resolve }) => resolve({ ticket: append.ticket, error: reason }));
      });
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
      await walSync?.close();
      await checkpointer?.close();
      log.close();
    },
  };
}
