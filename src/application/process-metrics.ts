import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

let registry: Registry | undefined;
let logLinesDropped: Counter | undefined;

/**
 * prom-client's standard process and Node.js metrics (CPU, memory, event-loop lag, GC,
 * handles), which every operator's dashboards expect, in a registry of the process's own:
 * collected once per process, however many ledgers it builds (a test builds dozens, and each
 * would otherwise start event-loop and GC observers that are never stopped).
 */
export function processMetrics(): Registry {
  if (registry) return registry;
  registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters, which `promtool check metrics` flags; each is the sum of the
  // same gauge by type without the suffix (`nodejs_active_handles{type=…}`), so nothing is lost.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  // The process's log output is the process's: counted here, whichever ledger logged the line.
  logLinesDropped = new Counter({
    name: 'ledger_log_lines_dropped_total',
    help: 'Log lines dropped: the log output held as much as it may for a reader that does not keep up, or had failed (its reader gone)',
    registers: [registry],
  });
  return registry;
}

/** Counts one log line dropped (see `boundedLogDestination`). */
export function countDroppedLogLine() {
  processMetrics();
  logLinesDropped!.inc();
}
