// The `scenario` child role: one scenario in a process of its own, so its heap and RSS never
// weigh on another's figures. It writes what it measured (or why it failed) to a file the
// bench names, since a scenario's libraries may print on stdout.
import { writeFileSync } from 'node:fs';
import { scenarios } from './scenarios.js';
import type { Figure } from './figure.js';

/** What a scenario's process leaves for the bench to read. */
export type ScenarioOutcome = { figures: Figure[] } | { error: string };

/** `scenario <name> <dir> <outcome file> [--quick]` */
export async function scenarioChild([name, dir, outcomeFile, ...flags]: string[]): Promise<void> {
  if (name === undefined || dir === undefined || outcomeFile === undefined) {
    throw new Error('usage: --child scenario <name> <dir> <outcome file> [--quick]');
  }
  const scenario = scenarios.find((candidate) => candidate.name === name);
  let outcome: ScenarioOutcome;
  if (scenario === undefined) {
    outcome = { error: `no scenario named ${name}` };
  } else {
    try {
      const log = (line: string) => void process.stderr.write(`[${name}] ${line}\n`);
      outcome = { figures: await scenario.run({ quick: flags.includes('--quick'), dir, log }) };
    } catch (error) {
      outcome = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
  }
  writeFileSync(outcomeFile, JSON.stringify(outcome));
  // Its figures are written: a handle a peer's driver left open must not keep it alive.
  process.exit(0);
}
