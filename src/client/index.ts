// The entry point of the `session-ledger-client` package (packages/client): the typed client
// of the ledger's HTTP API, its errors, and the types of what it sends and gets.

export { createLedgerClient, type LedgerClient } from './client.js';
export { isLedgerProblem, LedgerClientError, LedgerNetworkError, LedgerProblemError, LedgerResponseError } from './errors.js';
export type { LedgerClientOptions } from './options.js';
export type { CallOptions } from './transport.js';
export type * from './types.js';
export type { WatchOptions, WatchReconnect } from './watch.js';
export { isTerminal as isTerminalStatus, type ProblemDetails, type ProblemKind } from '../contract/index.js';
