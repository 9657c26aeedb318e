// The child roles of the http and watch scenarios, by the name `--child <name>` starts them
// with (bench/child.ts); each runs with its own arguments and ends when its work is done or,
// for a server, at SIGTERM.
import { httpCeiling } from './http-ceiling.js';
import { httpLoad } from './http-load.js';
import { ledgerServe } from './ledger-serve.js';
import { watchClients } from './watch-clients.js';

export const children: Record<string, (args: string[]) => Promise<void>> = {
  'http-ceiling': httpCeiling,
  'http-load': httpLoad,
  'ledger-serve': ledgerServe,
  'watch-clients': watchClients,
};
