import closeWithGrace from 'close-with-grace';
import { createLedger, ledgerOptionsOf } from '../application/create-ledger.js';
import { countDroppedLogLine } from '../application/process-metrics.js';
import { buildApp } from '../http/app.js';
import { httpLimitsOf } from '../http/limits.js';
import { boundedLogDestination } from '../log-destination.js';
import { createLogger } from '../logger.js';
import type { Logger } from 'pino';
import type { LedgerConfig } from '../config.js';
import { defineCommand, STORE_ENVIRONMENT } from './command.js';
import { jwtSecretOf } from './jwt-secret.js';
import { loadSubscriptions } from '../reactions/subscriptions.js';
import { packageVersion } from '../project-root.js';
import { exportersOf, type Tracing, type TracingSettings } from '../tracing/settings.js';

/**
 * The main job: the event store (the embedded SQLite file, or EventStoreDB with the read
 * model in LEDGER_DB), the projector following the store, the deadline sweeper (unless
 * LEDGER_SWEEP_INTERVAL_MS is 0), and the HTTP API. On SIGINT/SIGTERM it stops taking
 * requests, lets in-flight appends finish, stops the sweeper after its sweep and the
 * projector after its transaction, then closes the file; whatever is not done within
 * LEDGER_SHUTDOWN_TIMEOUT_MS is left, and it exits 1. Its log goes to stdout, bounded: a
 * reader that stalls or goes away costs log lines (counted on /metrics), never memory or the
 * exit.
 */
export const serve = defineCommand({
  name: 'serve',
  summary: 'run the ledger: HTTP API, projector, read model, sweeper and webhooks (LEDGER_STORE: sqlite or eventstoredb)',
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
    'LEDGER_WEBHOOKS_FILE',
    'LEDGER_RATE_LIMIT_MAX',
    'LEDGER_RATE_LIMIT_WINDOW_MS',
    'LEDGER_REQUEST_TIMEOUT_MS',
    'LEDGER_HEADERS_TIMEOUT_MS',
    'LEDGER_KEEP_ALIVE_TIMEOUT_MS',
    'LEDGER_MAX_EVENT_LOOP_DELAY_MS',
    'LEDGER_MAX_HEAP_USED_MB',
    'LEDGER_LOG_BUFFER_BYTES',
    'LEDGER_SHUTDOWN_TIMEOUT_MS',
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_TRACES_EXPORTER',
    'OTEL_SERVICE_NAME',
    'LOG_LEVEL',
  ],
  examples: [
    'ledger serve',
    'LEDGER_DB=/var/lib/ledger/ledger.db LEDGER_PORT=8080 ledger serve',
    'OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 ledger serve',
  ],
  async run(_arguments, { config, clock, stdout }) {
    const log = boundedLogDestination(stdout, { maxBytes: config.LEDGER_LOG_BUFFER_BYTES, onDrop: countDroppedLogLine });
    const logger = createLogger(config.LOG_LEVEL, log);
    // Before anything that makes spans; null (and none of the SDK loaded) unless the environment asks for traces.
    const tracing = await tracingOf(config);
    const { ledger, app } = await composeServer(config, clock, logger, tracing);

    const stopped = new Promise<void>((resolve) => {
      const timeoutMs = config.LEDGER_SHUTDOWN_TIMEOUT_MS;
      // Past the deadline close-with-grace exits 1, whatever is still running: nothing the log holds can hold it.
      const onTimeout = () => logger.error({ timeoutMs }, 'stopping took too long: exiting with what is not done left undone');
      closeWithGrace({ delay: timeoutMs, logger, onTimeout }, async ({ signal, err }) => {
        if (err) logger.error({ err }, 'stopping after an error');
        else logger.info({ signal }, 'stopping');
        await app.close();
        await ledger.close();
        // The spans of the last requests and batches, exported before the exit.
        await tracing?.shutdown();
        logger.info({ droppedLogLines: log.dropped }, 'stopped');
        // The last lines, to a reader that takes them; one that does not is not waited for long.
        await log.drain(Math.min(1000, timeoutMs / 10));
        resolve();
      });
    });
    // Once a signal would stop them cleanly.
    ledger.start();
    const address = await app.listen({ host: config.LEDGER_HOST, port: config.LEDGER_PORT });
    const traces = tracing === null ? 'off' : exportersOf(tracingSettingsOf(config)).join(',');
    logger.info({ address, store: config.LEDGER_STORE, db: config.LEDGER_DB, providers: config.LEDGER_PROVIDERS, traces }, 'ledger listening');
    await stopped;
    return 0;
  },
});

/** The ledger and its HTTP app, composed from the configuration as `serve` runs them (the bench serves the same). */
export async function composeServer(config: LedgerConfig, clock: () => Date, logger: Logger, tracing: Tracing | null = null) {
  // Before anything is opened: a bad file stops the start with what is wrong in it.
  const subscriptions = loadSubscriptions(config.LEDGER_WEBHOOKS_FILE, config.LEDGER_PROVIDERS);
  const ledger = await createLedger({ ...ledgerOptionsOf(config, clock, logger), webhooks: { subscriptions } });
  const app = await buildApp(ledger, {
    jwtSecret: jwtSecretOf(config, { create: true }),
    tokenMaxTtlSeconds: config.LEDGER_TOKEN_MAX_TTL,
    logger,
    watchGraceMs: config.LEDGER_WATCH_GRACE_MS,
    corsOrigins: config.LEDGER_CORS_ORIGINS,
    limits: httpLimitsOf(config),
    requestSpans: tracing?.requests,
  });
  return { ledger, app };
}

/** What the environment says of traces. */
function tracingSettingsOf(config: LedgerConfig): TracingSettings {
  return { exporters: config.OTEL_TRACES_EXPORTER, otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, serviceVersion: packageVersion() };
}

/** The SDK, loaded and started only when traces are asked for: the default start stays as it was (the bench starts it the same way). */
export async function tracingOf(config: LedgerConfig): Promise<Tracing | null> {
  const settings = tracingSettingsOf(config);
  if (exportersOf(settings).length === 0) return null;
  const { startTracing } = await import('../tracing/sdk.js');
  return startTracing(settings);
}
