import { createLedger, ledgerOptionsOf } from '../application/create-ledger.js';
import { replayReadModel } from '../audit/replay.js';
import { defineCommand, STORE_ENVIRONMENT } from './command.js';

/** Rebuilds the read model from the log into a fresh table and swaps it in, while a `serve` on the same file goes on. */
export const replay = defineCommand({
  name: 'replay',
  summary: 'rebuild the read model from the log into a fresh table and swap it in atomically (a running serve goes on)',
  options: {},
  environment: STORE_ENVIRONMENT,
  examples: ['ledger replay'],
  async run(_arguments, { config, out, clock, progress }) {
    // It rewrites the read model of a ledger that exists; it has nothing to rebuild from otherwise.
    const ledger = await createLedger(ledgerOptionsOf(config, clock, undefined, 'existing'));
    try {
      const bar = progress('replay', 0);
      const result = await replayReadModel({ store: ledger.store, readModelPath: ledger.readModelPath, onProgress: (done, total) => bar.update(done, total) });
      const rate = result.elapsedMs > 0 ? Math.round((result.events / result.elapsedMs) * 1000) : result.events;
      bar.stop(`replay: ${result.events} events`);
      out(`replayed ${result.events} events into ${result.sessions} sessions up to position ${result.position} in ${(result.elapsedMs / 1000).toFixed(1)} s: ${rate} events/s`);
      return 0;
    } finally {
      await ledger.close();
    }
  },
});
