import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CommandHandler } from './command-handler.js';
import type { Projector } from '../projector/projector-port.js';
import type { ReadModel } from '../projector/read-model.js';

/**
 * The ledger's Prometheus metrics, in a registry of its own (one per ledger, so tests and
 * several ledgers in one process do not share counters). `/metrics` serves it, beside the
 * process's own (`processMetrics`).
 */
export function createLedgerMetrics({ projector, readModel }: { projector: Projector; readModel: ReadModel }) {
  const registry = new Registry();
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
    return async (command, envelope, maySee) => {
      const stop = appendSeconds.startTimer();
      const handled = await handle(command, envelope, maySee);
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
