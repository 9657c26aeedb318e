import { setTimeout as wait } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { SESSION_CATEGORY } from '../events/index.js';
import { silentLogger, type PartLogger } from '../part-logger.js';
import type { EventStore } from '../store/port.js';
import { DEFAULT_RETRY_SCHEDULE, type RetrySchedule } from './backoff.js';
import { openDeliveryState } from './delivery-state.js';
import { createWebhookConsumer, ignoreDeliveries, type DeliveryObserver, type Sleep } from './webhook-consumer.js';
import type { WebhookSubscription } from './subscriptions.js';

export interface WebhooksOptions {
  subscriptions: readonly WebhookSubscription[];
  store: EventStore;
  /** The read-model database, where the checkpoints and dead letters live. */
  db: Database.Database;
  clock: () => Date;
  /** Defaults to 8 attempts over about an hour; a test's is milliseconds. */
  schedule?: RetrySchedule;
  sleep?: Sleep;
  random?: () => number;
  /** How long a consumer waits before resubscribing after its subscription fails. Defaults to 1 s. */
  retryDelayMs?: number;
  /** How often an idle consumer looks for a replay asked from another process. Defaults to 1 s. */
  replayCheckMs?: number;
  /** Told of each delivery, failed attempt and dead letter (the metrics). */
  observer?: DeliveryObserver;
  logger?: PartLogger;
}

/** A subscription as `GET /v1/webhooks` lists it: no secret. */
export interface WebhookStatus {
  id: string;
  url: string;
  statuses: string[] | null;
  eventTypes: string[] | null;
  providers: string[] | null;
  /** The last position passed: delivered, dead-lettered or not wanted. */
  checkpoint: bigint;
  /** How far the checkpoint is behind the store's last session event, in positions. */
  lag: bigint;
  deadLetters: number;
}

const sleepFor: Sleep = (ms, signal) => wait(ms, undefined, { signal }).catch(() => {});

/** The webhook subscriptions, each with a consumer of its own. */
export function createWebhooks(options: WebhooksOptions) {
  const { subscriptions, store, clock, schedule = DEFAULT_RETRY_SCHEDULE, sleep = sleepFor, random = Math.random, retryDelayMs = 1000 } = options;
  const { replayCheckMs = 1000, observer = ignoreDeliveries, logger = silentLogger } = options;
  const state = openDeliveryState(options.db);
  const consumers = subscriptions.map((subscription) =>
    createWebhookConsumer({ subscription, store, state, schedule, clock, sleep, random, retryDelayMs, replayCheckMs, observer, logger }),
  );
  return {
    start() {
      for (const consumer of consumers) consumer.start();
    },
    async stop() {
      await Promise.all(consumers.map((consumer) => consumer.stop()));
    },
    async list(): Promise<WebhookStatus[]> {
      const last = consumers.length === 0 ? 0n : await store.lastPosition({ category: SESSION_CATEGORY });
      return consumers.map(({ subscription, checkpoint }) => ({
        id: subscription.id,
        url: subscription.url,
        statuses: subscription.statuses ?? null,
        eventTypes: subscription.eventTypes ?? null,
        providers: subscription.providers ?? null,
        checkpoint,
        lag: last > checkpoint ? last - checkpoint : 0n,
        deadLetters: state.deadLetterCount(subscription.id),
      }));
    },
  };
}

export type Webhooks = ReturnType<typeof createWebhooks>;
