import type Database from 'better-sqlite3';
import type { LedgerConfig } from '../config.js';
import { silentLogger, type LedgerLogger } from '../part-logger.js';
import { createLedgerMetrics, type LedgerMetrics } from './metrics.js';
import { createProjector, openReadModel, type Projector, type SqliteReadModel } from '../projector/index.js';
import { openOutcomes, type OutcomesReadModel } from '../projector/outcomes-read-model.js';
import type { EventStore } from '../store/port.js';
import type { DatabaseAccess } from '../store/sqlite/index.js';
import { createDeadlineSweeper, type DeadlineSweeper } from './deadline-sweeper.js';
import { readSealKey, type SealKey } from '../audit/seals.js';
import { createSealer, type Sealer } from '../audit/sealer.js';
import { createApplication, type Application } from './application.js';
import { createCommandHandler, type CommandHandler } from './command-handler.js';
import { openStore, type StoreChoice } from './open-store.js';
import { createWriteFaults, type WriteFaults } from './write-faults.js';
import { createWebhooks, type Webhooks, type WebhooksOptions } from '../reactions/webhooks.js';
import { createWebhookMetrics } from './webhook-metrics.js';

export interface LedgerOptions {
  store: StoreChoice;
  /** What "now" is: every `recordedAt`, deadline and token time. Defaults to the system clock. */
  clock?: () => Date;
  /** Each part logs through a child of it (`part: projector`, …). Defaults to silent. */
  logger?: LedgerLogger | undefined;
  /** Accepted provider slugs. */
  providers: readonly string[];
  /** How long a read waits for the projector (`?after=`) before answering 503. Defaults to 5 s. */
  readWaitMs?: number;
  /** How often the deadline sweeper runs; 0 or absent: no sweeper (another instance sweeps). */
  sweepIntervalMs?: number;
  /** The key that signs seals of the log, and how often `start()` seals; absent: no seals. */
  seal?: { keyFile: string; intervalMs: number } | undefined;
  /** How long the projectors wait before trying again after a failure (a dropped subscription, a full disk). Defaults to 1 s. */
  projectorRetryDelayMs?: number;
  /** The webhook subscriptions (LEDGER_WEBHOOKS_FILE) and, for tests, how their retries are timed; none by default. */
  webhooks?: Pick<WebhooksOptions, 'subscriptions' | 'schedule' | 'sleep' | 'random' | 'replayCheckMs'> | undefined;
}

/** One ledger: its parts, built once, and the use cases over them. */
export interface Ledger {
  readonly store: EventStore;
  readonly readModel: SqliteReadModel;
  /** The SQLite connection the read model and its checkpoint live on. */
  readonly readModelDb: Database.Database;
  readonly projector: Projector;
  /** Keeps `session_outcomes`, with a checkpoint of its own. */
  readonly outcomesProjector: Projector;
  readonly outcomes: OutcomesReadModel;
  /** The one command handler every writer goes through: the API's use cases and the sweeper. */
  readonly commands: CommandHandler;
  /** The storage fault the last appends met, until one is stored: what `/readyz` names. */
  readonly writeFaults: WriteFaults;
  readonly sweeper: DeadlineSweeper | null;
  /** The webhook subscriptions, each delivered by a consumer of its own once started. */
  readonly webhooks: Webhooks;
  /** Seals the log on a timer once started; null without a seal key. */
  readonly sealer: Sealer | null;
  /** The key that signs seals; null without one. */
  readonly sealKey: SealKey | null;
  /** The SQLite file the read model lives in. */
  readonly readModelPath: string;
  readonly metrics: LedgerMetrics;
  readonly application: Application;
  readonly clock: () => Date;
  readonly providers: readonly string[];
  readonly logger: LedgerLogger;
  /** Starts the projector, then the sweeper and the sealer, which read the projector's read model, then the webhook consumers. */
  start(): void;
  /** Stops the sealer and the sweeper after what they are doing, the webhook consumers (a delivery in flight is sent again later), then the projector after its transaction, then closes the store. */
  close(): Promise<void>;
}

/**
 * The composition root: `serve`, the other commands and the tests build the ledger here,
 * from a store choice and settings, and nowhere else.
 */
export async function createLedger(options: LedgerOptions): Promise<Ledger> {
  const { clock = () => new Date(), logger = silentLogger, providers, readWaitMs = 5000, sweepIntervalMs = 0, projectorRetryDelayMs: retryDelayMs } = options;
  const opened = await openStore(options.store);
  const { store } = opened;
  const readModel = openReadModel(opened.readModelDb);
  const projector = createProjector({ store, db: opened.readModelDb, retryDelayMs, logger: logger.child({ part: 'projector' }) });
  const outcomes = openOutcomes(opened.readModelDb);
  const outcomesProjector = createProjector({ store, projection: outcomes, retryDelayMs, logger: logger.child({ part: 'outcomes-projector' }) });
  const metrics = createLedgerMetrics({ projector, readModel });
  const writeFaults = createWriteFaults({ probe: opened.probeWrite, clock });
  const commands = writeFaults.track(metrics.instrument(createCommandHandler({ store, clock })));
  const sweeper =
    sweepIntervalMs > 0
      ? createDeadlineSweeper({ readModel, commands, clock, intervalMs: sweepIntervalMs, logger: logger.child({ part: 'sweeper' }) })
      : null;
  const readModelPath = options.store.kind === 'sqlite' ? options.store.path : options.store.readModelPath;
  const sealKey = options.seal ? readSealKey(options.seal.keyFile) : null;
  const sealer =
    options.seal && sealKey
      ? createSealer({ readModelPath, store, key: sealKey, clock, intervalMs: options.seal.intervalMs, logger: logger.child({ part: 'sealer' }) })
      : null;
  const webhookMetrics = createWebhookMetrics(metrics.registry, (options.webhooks?.subscriptions ?? []).map(({ id }) => id));
  const webhooks = createWebhooks({
    subscriptions: [],
    ...options.webhooks,
    observer: webhookMetrics.observer,
    store,
    db: opened.readModelDb,
    clock,
    retryDelayMs,
    logger: logger.child({ part: 'webhooks' }),
  });
  webhookMetrics.watch(() => webhooks.list());
  const application = createApplication({ store, readModel, readModelDb: opened.readModelDb, projector, outcomes, commands, writeFaults, clock, readWaitMs, sealKey });
  let closing: Promise<void> | null = null;

  return {
    store,
    readModel,
    readModelDb: opened.readModelDb,
    projector,
    outcomesProjector,
    outcomes,
    commands,
    writeFaults,
    sweeper,
    webhooks,
    sealer,
    sealKey,
    readModelPath,
    metrics,
    application,
    clock,
    providers,
    logger,
    start() {
      projector.start();
      outcomesProjector.start();
      sweeper?.start();
      sealer?.start();
      webhooks.start();
    },
    close() {
      closing ??= (async () => {
        // Before the projector and the store: a sweep or a seal in progress still reads and writes.
        await sealer?.stop();
        await sweeper?.stop();
        // A delivery in flight is abandoned: its checkpoint has not moved, so it is sent again.
        await webhooks.stop();
        await projector.stop();
        await outcomesProjector.stop();
        await opened.close();
      })();
      return closing;
    },
  };
}

/** Where the configuration says the events are, opened as the command may (`create` by default). */
export function storeChoiceOf(config: LedgerConfig, access: DatabaseAccess = 'create'): StoreChoice {
  return config.LEDGER_STORE === 'sqlite'
    ? { kind: 'sqlite', path: config.LEDGER_DB, synchronous: config.LEDGER_SQLITE_SYNCHRONOUS, access }
    : // The configuration refuses eventstoredb without a connection string.
      { kind: 'eventstoredb', connectionString: config.EVENTSTORE_CONNECTION_STRING!, readModelPath: config.LEDGER_DB, access };
}

/** The options `serve` and the other commands build their ledger with, from the environment's settings. */
export function ledgerOptionsOf(config: LedgerConfig, clock: () => Date, logger?: LedgerLogger, access: DatabaseAccess = 'create'): LedgerOptions {
  return {
    store: storeChoiceOf(config, access),
    clock,
    logger,
    providers: config.LEDGER_PROVIDERS,
    readWaitMs: config.LEDGER_READ_WAIT_MS,
    sweepIntervalMs: config.LEDGER_SWEEP_INTERVAL_MS,
    seal: config.LEDGER_SEAL_KEY_FILE === undefined ? undefined : { keyFile: config.LEDGER_SEAL_KEY_FILE, intervalMs: config.LEDGER_SEAL_INTERVAL_MS },
  };
}
