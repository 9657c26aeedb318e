import closeWithGrace from 'close-with-grace';
import { createLedger, ledgerOptionsOf } from '../application/create-ledger.js';
import { buildApp } from '../http/app.js';
import { createLogger } from '../logger.js';
import { defineCommand, STORE_ENVIRONMENT } from './command.js';
import { jwtSecretOf } from './jwt-secret.js';

/**
 * The main job: the event store (the embedded SQLite file, or EventStoreDB with the read
 * model in LEDGER_DB), the projector following the store, the deadline sweeper (unless
 * LEDGER_SWEEP_INTERVAL_MS is 0), and the HTTP API. On SIGINT/SIGTERM it stops taking
 * requests, lets in-flight appends finish, stops the sweeper after its sweep and the
 * projector after its transaction, then closes the file.
 */
export const serve = defineCommand({
  name: 'serve',
  summary: 'run the ledger: HTTP API, projector, read model and sweeper (LEDGER_STORE: sqlite or eventstoredb)',
  options: {},
  environment: [
    'LEDGER_HOST',
    'LEDGER_PORT',
    ...STORE_ENVIRONMENT,
    'LEDGER_JWT_SECRET',
    'LEDGER_TOKEN_MAX_TTL',
    'LEDGER_PROVIDERS',
    'LEDGER_READ_WAIT_MS',
    'LEDGER_SWEEP_INTERVAL_MS',
    'LEDGER_CORS_ORIGINS',
    'LEDGER_WATCH_GRACE_MS',
    'LEDGER_SEAL_KEY_FILE',
    'LEDGER_SEAL_INTERVAL_MS',
    'LOG_LEVEL',
  ],
  examples: ['ledger serve', 'LEDGER_DB=/var/lib/ledger/ledger.db LEDGER_PORT=8080 ledger serve'],
  async run(_arguments, { config, clock }) {
    const logger = createLogger(config.LOG_LEVEL);
    const ledger = await createLedger(ledgerOptionsOf(config, clock, logger));
    const app = await buildApp(ledger, {
      jwtSecret: jwtSecretOf(config, { create: true }),
      tokenMaxTtlSeconds: config.LEDGER_TOKEN_MAX_TTL,
      logger,
      watchGraceMs: config.LEDGER_WATCH_GRACE_MS,
      corsOrigins: config.LEDGER_CORS_ORIGINS,
    });

    const stopped = new Promise<void>((resolve) => {
      closeWithGrace({ delay: 10_000, logger }, async ({ signal, err }) => {
        if (err) logger.error({ err }, 'stopping after an error');
        else logger.info({ signal }, 'stopping');
        await app.close();
        await ledger.close();
        resolve();
      });
    });
    // Once a signal would stop them cleanly.
    ledger.start();
    const address = await app.listen({ host: config.LEDGER_HOST, port: config.LEDGER_PORT });
    logger.info({ address, store: config.LEDGER_STORE, db: config.LEDGER_DB, providers: config.LEDGER_PROVIDERS }, 'ledger listening');
    await stopped;
    return 0;
  },
});
