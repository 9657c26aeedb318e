import { collectDefaultMetrics, Registry } from 'prom-client';

let registry: Registry | undefined;

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
  return registry;
}
