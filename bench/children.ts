// The roles `--child <role>` starts (bench/child.ts): a scenario's other processes, and the
// commit-thread worker when a bundled bench has no file of the worker's own (it runs in a
// worker thread, not a process). Each scenario that needs one registers it here.
import { auditChild } from './audit-child.js';
import { LOG_WORKER_ROLE } from './commit-thread-in-worker.js';
import { serveLogToMainThread } from './commit-thread-worker.js';
import { emmettChild } from './emmett-child.js';
import { httpCeiling } from './http-ceiling.js';
import { httpLoad } from './http-load.js';
import { ledgerServe } from './ledger-serve.js';
import { scenarioChild } from './scenario-child.js';
import { watchClients } from './watch-clients.js';

export const children: Record<string, (args: string[]) => Promise<void>> = {
  scenario: scenarioChild,
  audit: auditChild,
  emmett: emmettChild,
  [LOG_WORKER_ROLE]: () => serveLogToMainThread(),
  'http-ceiling': httpCeiling,
  'http-load': httpLoad,
  'ledger-serve': ledgerServe,
  'watch-clients': watchClients,
};
