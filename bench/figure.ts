// What a bench scenario measures: figures, each with its unit, and, where the issue asks for
// one, its ratio to a reference measured in the same run and the target it is held to.

/** One figure of one scenario. JSON as it is: `bench/results/latest.json` holds a list of them. */
export interface Figure {
  /** The scenario that measured it: `store`, `http`, `projector`, `watch`, `commit-thread`, `audit`. */
  scenario: string;
  /** What was measured, as the table prints it: `ledger store, 64 concurrent appenders`. */
  name: string;
  /** The figure; null when it could not be produced (say why in `note`). */
  value: number | null;
  /** `appends/s`, `req/s`, `ms`, `MiB`, `events/s`, `s`. */
  unit: string;
  /** `value` divided by the reference's value, both measured in this run. */
  ratio?: { to: string; value: number };
  /** The target for this figure, and whether this run met it. */
  target?: { text: string; met: boolean };
  /** Anything a reader needs to read the figure right (errors counted, acknowledged vs stored). */
  note?: string;
}

/** What a scenario is given: the size of the run and a fresh folder of its own. */
export interface ScenarioContext {
  /** Small counts, so `npm test` can check every figure is produced. */
  quick: boolean;
  /** A temporary folder, removed after the scenario. */
  dir: string;
  /** Progress for the operator, on stderr; the table is printed at the end. */
  log: (line: string) => void;
}

export interface Scenario {
  name: string;
  run(context: ScenarioContext): Promise<Figure[]>;
}
