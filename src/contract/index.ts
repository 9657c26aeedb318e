// The wire contract of the ledger's HTTP API: what the server and the typed client agree on.
// Imports only zod, so the client can be installed and bundled without the server.
export * from './audit.js';
export * from './console.js';
export * from './facts.js';
export * from './identifiers.js';
export * from './legacy.js';
export * from './problems.js';
export * from './roles.js';
export * from './sessions.js';
export * from './stats.js';
export * from './status.js';
export * from './webhooks.js';
