// The roles `--child <role>` starts (bench/child.ts): a scenario's other processes. Each
// scenario that needs one registers it here.
import { auditChild } from './audit-child.js';
import { emmettChild } from './emmett-child.js';
import { scenarioChild } from './scenario-child.js';

export const children: Record<string, (args: string[]) => Promise<void>> = {
  scenario: scenarioChild,
  audit: auditChild,
  emmett: emmettChild,
};
