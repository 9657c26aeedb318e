// npm run bench: every scenario of bench/scenarios.ts, each in a process of its own with a
// fresh folder, then one table of figures measured side by side in this run, on this machine,
// and the same as JSON. Not a test: nothing here asserts on time.
//
//   node dist/bench/run.js [--quick] [--out <file>] [scenario …]
//
// Started with `--child <role> …` it is one of the bench's own processes instead (children.ts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnChild } from './child.js';
import { children } from './children.js';
import type { Figure } from './figure.js';
import { machineLine, thisMachine } from './machine.js';
import type { ScenarioOutcome } from './scenario-child.js';
import { scenarios } from './scenarios.js';
import { tableOf } from './table.js';

/** A scenario that ran longer than this is stopped and reported as such, so the bench always ends. */
const SCENARIO_LIMIT_MS = { quick: 5 * 60_000, full: 15 * 60_000 };

interface Options {
  quick: boolean;
  out: string;
  names: string[];
}

function optionsOf(args: string[]): Options {
  const options: Options = { quick: false, out: 'bench/results/latest.json', names: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--quick') options.quick = true;
    else if (arg === '--out' && args[i + 1] !== undefined) options.out = args[++i]!;
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}; usage: run [--quick] [--out <file>] [scenario …]`);
    else options.names.push(arg);
  }
  const known = scenarios.map((scenario) => scenario.name);
  const unknown = options.names.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new Error(`no scenario named ${unknown.join(', ')}; there are: ${known.join(', ')}`);
  return options;
}

/** The row of a scenario that gave no figures. */
const failure = (scenario: string, why: string) => ({
  figures: [{ scenario, name: 'the scenario failed', value: null, unit: '', note: why }],
  failed: true,
});

/** The scenario's process group, while one runs: stopped with the bench. */
let running: number | undefined;
const stopRunning = () => {
  if (running === undefined) return;
  try {
    // The whole group: a scenario's own children (servers, load generators) go with it.
    process.kill(-running, 'SIGKILL');
  } catch {
    // Already gone.
  }
};

/** One scenario in its own process (and process group); its figures, or one row saying why there are none. */
async function measure(name: string, quick: boolean, root: string): Promise<{ figures: Figure[]; failed: boolean }> {
  const dir = join(root, name);
  mkdirSync(dir);
  const outcomeFile = join(root, `${name}.json`);
  // Its stdout goes to our stderr: a library that prints must not break the table.
  const child = spawnChild('scenario', [name, dir, outcomeFile, ...(quick ? ['--quick'] : [])], { stdio: ['ignore', 2, 'inherit'], detached: true });
  running = child.pid;
  const limitMs = quick ? SCENARIO_LIMIT_MS.quick : SCENARIO_LIMIT_MS.full;
  let timedOut = false;
  const guard = setTimeout(() => {
    timedOut = true;
    stopRunning();
  }, limitMs);
  const exit = await new Promise<string>((resolve) => {
    child.on('error', (error) => resolve(error.message));
    child.on('exit', (code, signal) => resolve(signal ?? `code ${code}`));
  });
  clearTimeout(guard);
  stopRunning();
  running = undefined;
  try {
    if (timedOut) return failure(name, `stopped after ${limitMs / 60_000} min`);
    let outcome: ScenarioOutcome;
    try {
      outcome = JSON.parse(readFileSync(outcomeFile, 'utf8')) as ScenarioOutcome;
    } catch {
      return failure(name, `its process ended (${exit}) without figures`);
    }
    if ('error' in outcome) {
      process.stderr.write(`[${name}] failed: ${outcome.error}\n`);
      return failure(name, `threw: ${outcome.error.split('\n')[0]}`);
    }
    return { figures: outcome.figures, failed: false };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bench(options: Options): Promise<number> {
  const machine = thisMachine();
  const startedAt = new Date().toISOString();
  const begin = performance.now();
  const selected = scenarios.filter((scenario) => options.names.length === 0 || options.names.includes(scenario.name));
  const root = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
  const figures: Figure[] = [];
  let failed = 0;
  const stop = () => {
    stopRunning();
    rmSync(root, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    for (const { name } of selected) {
      process.stderr.write(`[${name}] started${options.quick ? ' (quick)' : ''}\n`);
      const outcome = await measure(name, options.quick, root);
      figures.push(...outcome.figures);
      if (outcome.failed) failed++;
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const durationMs = Math.round(performance.now() - begin);
  mkdirSync(dirname(options.out), { recursive: true });
  // The scenarios run, named: a reader (and the quick test) sees which gave no figures at all.
  const ran = selected.map((scenario) => scenario.name);
  writeFileSync(options.out, `${JSON.stringify({ machine, quick: options.quick, startedAt, durationMs, scenarios: ran, figures }, null, 2)}\n`);
  console.log(`${machineLine(machine, startedAt)}; ${options.quick ? 'quick, ' : ''}${(durationMs / 1000).toFixed(0)} s`);
  console.log(tableOf(figures));
  console.log(`written to ${options.out}`);
  if (failed > 0) console.log(`${failed} of ${selected.length} scenarios failed`);
  return failed > 0 ? 1 : 0;
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  const role = children[args[1] ?? ''];
  if (role === undefined) throw new Error(`no child role named ${args[1]}; there are: ${Object.keys(children).join(', ')}`);
  await role(args.slice(2));
} else {
  process.exitCode = await bench(optionsOf(args));
}
