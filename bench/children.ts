// The child roles of the commit-thread scenario, by the name `--child <name>` starts them with
// (bench/child.ts). Its one role runs in a worker thread, not a process: a bundled bench has no
// file of the worker's own, so the worker starts the bench's entry again in this role.
import { LOG_WORKER_ROLE } from './commit-thread-in-worker.js';
import { serveLogToMainThread } from './commit-thread-worker.js';

export const children: Record<string, (args: string[]) => Promise<void>> = {
  [LOG_WORKER_ROLE]: () => serveLogToMainThread(),
};
