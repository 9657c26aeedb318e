// Child role `ledger-serve <file>`: the ledger served as `ledger serve` serves it (the same
// configuration, composition and app: src/cli/serve.ts), on the embedded default over a fresh
// SQLite file, on 127.0.0.1 and a free port, which it prints. The token secret comes from
// LEDGER_JWT_SECRET, set by the scenario, which mints its tokens with it as `ledger token`
// does. Two settings differ from the defaults, each so the figure measures the ledger and not
// a policy: the log at `warn` (one line per request would measure pino), and the rate limit
// raised out of reach (a load generator is one credential sending what thousands of clients
// would), though still counted, so its cost is in the figure. With OTEL_EXPORTER_OTLP_ENDPOINT
// set by the scenario, it traces as `serve` then does.
import { countDroppedLogLine } from '../src/application/process-metrics.js';
import { composeServer, tracingOf } from '../src/cli/serve.js';
import { loadConfig } from '../src/config.js';
import { boundedLogDestination } from '../src/log-destination.js';
import { createLogger } from '../src/logger.js';

/** The most LEDGER_RATE_LIMIT_MAX allows: per 10 s window, far above what one instance answers. */
const RATE_LIMIT_OUT_OF_REACH = '1000000';

export async function ledgerServe([path]: string[]): Promise<void> {
  if (path === undefined) throw new Error('usage: ledger-serve <sqlite file>');
  const config = loadConfig({
    ...process.env,
    LEDGER_DB: path,
    LEDGER_HOST: '127.0.0.1',
    LEDGER_PORT: '0',
    LOG_LEVEL: 'warn',
    LEDGER_RATE_LIMIT_MAX: RATE_LIMIT_OUT_OF_REACH,
  });
  const log = boundedLogDestination(process.stderr, { maxBytes: config.LEDGER_LOG_BUFFER_BYTES, onDrop: countDroppedLogLine });
  const logger = createLogger(config.LOG_LEVEL, log);
  const tracing = await tracingOf(config);
  const { ledger, app } = await composeServer(config, () => new Date(), logger, tracing);
  const closed = new Promise<void>((resolve) =>
    process.once('SIGTERM', () => {
      void (async () => {
        await app.close();
        await ledger.close();
        await tracing?.shutdown();
        resolve();
      })();
    }),
  );
  ledger.start();
  await app.listen({ host: config.LEDGER_HOST, port: config.LEDGER_PORT });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the ledger has no TCP address');
  console.log(JSON.stringify(address.port));
  await closed;
}
