import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CommandHandler } from './command-handler.js';
import type { Projector } from '../projector/projector-port.js';
import type { ReadModel } from '../projector/read-model.js';

/**
 * The ledger's Prometheus metrics, in a registry of its own (one per ledger, so tests and
 * several ledgers in one process do not share counters), beside prom-client's standard
 * process and Node.js ones (CPU, memory, event loop lag, GC, handles) that every operator's
 * dashboards expect. `/metrics` serves it.
 */
export function createLedgerMetrics({ projector, readModel }: { projector: Projector; readModel: ReadModel }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters, which `promtool check metrics` flags; each is the sum of the
  // same gauge by type without the suffix (`nodejs_active_handles{type=…}`), so nothing is lost.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  const appends = new Counter({
    name: 'ledger_appends_total',
    help: 'Events appended, by type; outcome "already_recorded" counts recognised retries',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const appendSeconds = new Histogram({
    name: 'ledger_append_duration_seconds',
    help: 'Time to decide and append one command, by event type',
    labelNames: ['type'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'ledger_projector_lag_positions',
    help: 'How many positions the event store is ahead of the read model',
    registers: [registry],
    async collect() {
      this.set(Number(await projector.lag()));
    },
  });
  new Gauge({
    name: 'ledger_projector_position',
    help: 'The position of the last event applied to the read model',
    registers: [registry],
    collect() {
      this.set(Number(projector.position));
    },
  });
  new Gauge({
    name: 'ledger_read_model_sessions',
    help: 'Rows of auth_sessions, by status',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      for (const [status, count] of Object.entries(readModel.countByStatus())) this.set({ status }, count);
    },
  });

  /** The same handler, timing each command that decides a fact and counting it by type and outcome. */
  function instrument(handle: CommandHandler): CommandHandler {
    return async (command, envelope, guard) => {
      const stop = appendSeconds.startTimer();
      const handled = await handle(command, envelope, guard);
      if (handled.type !== null) {
        stop({ type: handled.type });
        appends.inc({ type: handled.type, outcome: handled.alreadyRecorded ? 'already_recorded' : 'recorded' });
      }
      return handled;
    };
  }

  return { registry, instrument };
}

export type LedgerMetrics = ReturnType<typeof createLedgerMetrics>;
