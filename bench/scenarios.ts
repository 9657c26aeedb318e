// Every scenario `npm run bench` runs, in this order; the quick test checks each of them.
import type { Scenario } from './figure.js';
import { auditScenario } from './audit.js';
import { storeScenario } from './store.js';

export const scenarios: readonly Scenario[] = [
  storeScenario,
  // The integrator adds here: httpScenario, watchScenario (bench/http.ts, bench/watch.ts),
  // projectorScenario (bench/projector.ts), commitThreadScenario (bench/commit-thread.ts).
  auditScenario,
];
