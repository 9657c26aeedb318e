import closeWithGrace from 'close-with-grace';
import { createCommandHandler } from '../commands/handle-command.js';
import { buildApp } from '../http/app.js';
import { createLogger } from '../logger.js';
import { createProjector, openReadModel } from '../projector/index.js';
import { createDeadlineSweeper } from '../sweeper/deadline-sweeper.js';
import type { CliCommand } from './command.js';
import { jwtSecretOf } from './jwt-secret.js';
import { openConfiguredStore } from './open-store.js';

/**
 * The main job: the event store (the embedded SQLite file, or EventStoreDB with the read
 * model in LEDGER_DB), the projector
 * following the store, the deadline sweeper (unless LEDGER_SWEEP_INTERVAL_MS is 0), and the
 * HTTP API. On SIGINT/SIGTERM it stops taking requests, lets in-flight appends finish, stops
 * the sweeper after its sweep and the projector after its transaction, then closes the file.
 */
export const serve: CliCommand = {
  name: 'serve',
  summary: 'run the ledger: HTTP API, projector, read model and sweeper (LEDGER_STORE: sqlite or eventstoredb)',
  usage: 'ledger serve',
  async run(_args, { config, clock }) {
    const logger = createLogger(config.LOG_LEVEL);
    const opened = openConfiguredStore(config);
    const { store } = opened;
    const readModel = openReadModel(opened.readModelDb);
    const projector = createProjector({ store, db: opened.readModelDb, logger: logger.child({ part: 'projector' }) });
    projector.start();
    const sweeper =
      config.LEDGER_SWEEP_INTERVAL_MS > 0
        ? createDeadlineSweeper({
            readModel,
            commands: createCommandHandler({ store, clock }),
            clock,
            intervalMs: config.LEDGER_SWEEP_INTERVAL_MS,
            logger: logger.child({ part: 'sweeper' }),
          })
        : null;
    const app = await buildApp({
      store,
      readModel,
      projector,
      clock,
      jwtSecret: jwtSecretOf(config, { create: true }),
      providers: config.LEDGER_PROVIDERS,
      readWaitMs: config.LEDGER_READ_WAIT_MS,
      logger,
    });

    const stopped = new Promise<void>((resolve) => {
      closeWithGrace({ delay: 10_000, logger }, async ({ signal, err }) => {
        if (err) logger.error({ err }, 'stopping after an error');
        else logger.info({ signal }, 'stopping');
        await app.close();
        // Before the projector and the store: a sweep in progress still appends and reads.
        await sweeper?.stop();
        await projector.stop();
        await opened.close();
        resolve();
      });
    });
    // After the projector, whose read model it reads, and once a signal would stop it cleanly.
    sweeper?.start();
    const address = await app.listen({ host: config.LEDGER_HOST, port: config.LEDGER_PORT });
    logger.info({ address, store: config.LEDGER_STORE, db: config.LEDGER_DB, providers: config.LEDGER_PROVIDERS }, 'ledger listening');
    await stopped;
    return 0;
  },
};
