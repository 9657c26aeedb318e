// Every scenario `npm run bench` runs, in this order; the quick test checks each of them.
import type { Scenario } from './figure.js';
import { auditScenario } from './audit.js';
import { commitThreadScenario } from './commit-thread.js';
import { httpScenario } from './http.js';
import { projectorScenario } from './projector.js';
import { storeScenario } from './store.js';
import { watchScenario } from './watch.js';

export const scenarios: readonly Scenario[] = [
  storeScenario,
  commitThreadScenario,
  httpScenario,
  projectorScenario,
  watchScenario,
  auditScenario,
];
