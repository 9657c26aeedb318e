import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeliveryObserver } from '../reactions/webhook-consumer.js';
import type { WebhookStatus } from '../reactions/webhooks.js';

/**
 * Each webhook subscription's delivery on `/metrics`, labelled `subscription` (the operator's
 * ids, a bounded set): counters the consumers feed as they go, and the lag and dead letters
 * read at scrape time, as the projector's lag is.
 */
export function createWebhookMetrics(registry: Registry, subscriptionIds: readonly string[]) {
  const deliveries = new Counter({
    name: 'ledger_webhook_deliveries_total',
    help: 'Webhook messages delivered (answered 2xx), by subscription',
    labelNames: ['subscription'] as const,
    registers: [registry],
  });
  const failedAttempts = new Counter({
    name: 'ledger_webhook_failed_attempts_total',
    help: 'Webhook POSTs that failed (not 2xx, a network error or a timeout), retried or dead-lettered, by subscription',
    labelNames: ['subscription'] as const,
    registers: [registry],
  });
  const deadLettered = new Counter({
    name: 'ledger_webhook_dead_lettered_total',
    help: 'Webhook messages that failed every attempt and went to the dead letters, by subscription',
    labelNames: ['subscription'] as const,
    registers: [registry],
  });
  // Every subscription shows from the first scrape, at 0, so a rate over it has a start.
  for (const subscription of subscriptionIds) {
    for (const counter of [deliveries, failedAttempts, deadLettered]) counter.inc({ subscription }, 0);
  }
  const observer: DeliveryObserver = {
    delivered: (subscription) => deliveries.inc({ subscription }),
    failedAttempt: (subscription) => failedAttempts.inc({ subscription }),
    deadLettered: (subscription) => deadLettered.inc({ subscription }),
  };
  return {
    observer,
    /** The gauges read from the subscriptions' state at each scrape. */
    watch(list: () => Promise<WebhookStatus[]>) {
      new Gauge({
        name: 'ledger_webhook_lag_positions',
        help: "How many positions the event store is ahead of a webhook subscription's checkpoint",
        labelNames: ['subscription'] as const,
        registers: [registry],
        async collect() {
          for (const status of await list()) this.set({ subscription: status.id }, Number(status.lag));
        },
      });
      new Gauge({
        name: 'ledger_webhook_dead_letters',
        help: 'Webhook messages in the dead letters now (ledger webhooks retry removes them), by subscription',
        labelNames: ['subscription'] as const,
        registers: [registry],
        async collect() {
          for (const status of await list()) this.set({ subscription: status.id }, status.deadLetters);
        },
      });
    },
  };
}
