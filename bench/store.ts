// store: the ledger's SQLite store against the machine's floor (raw better-sqlite3 inserts
// into the same table, 1 and 100 rows per commit) and against a peer (Emmett's SQLite event
// store), all fsync-durable (WAL, synchronous FULL), each on a fresh file; one appender
// awaiting each append, then 64 at once, every append a new session's stream.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openSqliteEventStore } from '../src/store/sqlite/index.js';
import { driveAppends, emptyRun, errorsText, type AppendRun } from './appenders.js';
import { spawnChild } from './child.js';
import type { EmmettRunEnd } from './emmett-child.js';
import { EMMETT_MESSAGES, synchronousOf } from './emmett-store.js';
import type { Figure, Scenario, ScenarioContext } from './figure.js';
import { login, type Login } from './login-event.js';
import { openRawFloor } from './raw-floor.js';
import { storedStreams } from './stored-streams.js';

const CONCURRENT = 64;
const SEQUENTIAL_TARGET = 0.9;
const CONCURRENT_TARGET = 0.7;

const NAMES = {
  rawOne: 'raw better-sqlite3, 1 row per commit',
  rawHundred: 'raw better-sqlite3, 100 rows per commit',
  ledgerSequential: 'ledger store, sequential',
  ledgerConcurrent: `ledger store, ${CONCURRENT} concurrent appenders`,
  emmettSequential: 'Emmett SQLite store, sequential',
  emmettConcurrent: `Emmett SQLite store, ${CONCURRENT} concurrent appenders`,
} as const;

/** A store that fails more than this share of its appends has no rate worth comparing. */
const TOLERATED_ERRORS = 0.01;

/**
 * A store's run as acknowledged appends per second, with its errors in the note; or null and
 * what happened, when it acknowledged an append it did not keep, failed more than 1 % of
 * them, or its process died.
 */
function rateOf(run: AppendRun, logins: readonly Login[], stored: Set<string>, died?: string): { value: number | null; note?: string } {
  const lost = [...run.acknowledged].filter((index) => !stored.has(logins[index]!.streamName)).length;
  const failed = [...run.errors.values()].reduce((sum, n) => sum + n, 0);
  const counts = `${run.acknowledged.size} of ${run.attempted} acknowledged, ${stored.size} stored, ${lost} acknowledged but not stored`;
  const errors = failed > 0 ? `; ${errorsText(run.errors)}` : '';
  const unfinished = run.attempted < logins.length ? `; ${run.attempted} of ${logins.length} appends started within the time budget` : '';
  if (died !== undefined) return { value: null, note: `its process died (${died}); ${counts}` };
  if (lost > 0 || failed > run.attempted * TOLERATED_ERRORS) return { value: null, note: `${counts}${errors}${unfinished}` };
  const value = run.acknowledged.size / (run.ms / 1000);
  return failed > 0 || unfinished !== '' ? { value, note: `${counts}${errors}${unfinished}` } : { value };
}

/** `value` over `reference`, when both were measured. */
function ratio(value: number | null, reference: number | null): number | null {
  return value === null || reference === null ? null : value / reference;
}

/** How many rounds the floor and the ledger take turns in: a slow spell of a shared disk falls on both. */
const ROUNDS = 5;

/**
 * The raw floor and the ledger's store, sequential and concurrent, measured in turns over
 * `ROUNDS` rounds (each its own file, all open at once), so what the machine's other work
 * does to the disk weighs on the figure and on its reference alike.
 */
async function floorAndLedger(dir: string, count: number) {
  const logins = () => Array.from({ length: count }, login);
  const batches = { rawOne: logins(), rawHundred: logins(), sequential: logins(), concurrent: logins() };
  const rawOne = openRawFloor(join(dir, 'raw-1.db'), 1);
  const rawHundred = openRawFloor(join(dir, 'raw-100.db'), 100);
  const paths = { sequential: join(dir, 'ledger-sequential.db'), concurrent: join(dir, 'ledger-concurrent.db') };
  const stores = {
    sequential: openSqliteEventStore({ path: paths.sequential, synchronous: 'FULL' }),
    concurrent: openSqliteEventStore({ path: paths.concurrent, synchronous: 'FULL' }),
  };
  const runs = { sequential: emptyRun(), concurrent: emptyRun() };
  const ms = { rawOne: 0, rawHundred: 0 };
  const appendTo = (which: 'sequential' | 'concurrent') => (index: number) =>
    stores[which].append(batches[which][index]!.streamName, [batches[which][index]!.event]);
  for (let round = 0; round < ROUNDS; round++) {
    const from = Math.floor((count * round) / ROUNDS);
    const to = Math.floor((count * (round + 1)) / ROUNDS);
    ms.rawOne += rawOne.insert(batches.rawOne.slice(from, to));
    await driveAppends({ from, to, appenders: 1 }, appendTo('sequential'), runs.sequential);
    ms.rawHundred += rawHundred.insert(batches.rawHundred.slice(from, to));
    await driveAppends({ from, to, appenders: CONCURRENT }, appendTo('concurrent'), runs.concurrent);
  }
  rawOne.close();
  rawHundred.close();
  await stores.sequential.close();
  await stores.concurrent.close();
  return {
    rawOne: count / (ms.rawOne / 1000),
    rawHundred: count / (ms.rawHundred / 1000),
    ledgerSequential: rateOf(runs.sequential, batches.sequential, storedStreams(paths.sequential, 'events', 'stream_name')),
    ledgerConcurrent: rateOf(runs.concurrent, batches.concurrent, storedStreams(paths.concurrent, 'events', 'stream_name')),
  };
}

/**
 * Emmett's store driven in its own process (emmett-child.ts), which it may crash; within a
 * time budget, since under concurrency it slows to a few appends a second.
 */
async function emmettRun(path: string, logins: readonly Login[], appenders: number, budgetMs: number) {
  const loginsFile = `${path}.logins.json`;
  writeFileSync(loginsFile, JSON.stringify(logins));
  const child = spawnChild('emmett', [loginsFile, path, String(appenders), String(budgetMs)]);
  const run = emptyRun();
  let ended = false;
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    if (line.startsWith('ack ')) run.acknowledged.add(Number(line.slice(4)));
    else if (line.startsWith('end ')) {
      const end = JSON.parse(line.slice(4)) as EmmettRunEnd;
      run.attempted = end.attempted;
      run.errors = new Map(end.errors);
      run.ms = end.ms;
      ended = true;
    }
  });
  // 'close': it has exited and its stdout is read to the end.
  const exit = await new Promise<string>((resolve) => child.on('close', (code, signal) => resolve(signal ?? `exit code ${code}`)));
  return rateOf(run, logins, storedStreams(path, EMMETT_MESSAGES.table, EMMETT_MESSAGES.streamColumn), ended ? undefined : exit);
}

async function run({ quick, dir, log }: ScenarioContext): Promise<Figure[]> {
  const count = quick ? 200 : 5_000;
  const emmettBudgetMs = quick ? 5_000 : 15_000;
  const figure = (name: string, measured: { value: number | null; note?: string }, unit = 'appends/s'): Figure => ({
    scenario: 'store',
    name,
    unit,
    ...measured,
  });

  log(`raw inserts and the ledger's store in turns, ${count} rows and appends each`);
  const { rawOne, rawHundred, ledgerSequential, ledgerConcurrent } = await floorAndLedger(dir, count);
  log(`Emmett's store, ${count} appends`);
  const emmettSequentialPath = join(dir, 'emmett-sequential.db');
  const emmettSequential = await emmettRun(emmettSequentialPath, Array.from({ length: count }, login), 1, emmettBudgetMs);
  const emmettConcurrent = await emmettRun(join(dir, 'emmett-concurrent.db'), Array.from({ length: count }, login), CONCURRENT, emmettBudgetMs);
  const emmettSynchronous = await synchronousOf(emmettSequentialPath);
  const emmettDurability = `its connections' synchronous: ${emmettSynchronous === 2 ? 'FULL' : emmettSynchronous}, WAL`;

  const sequentialRatio = ratio(ledgerSequential.value, rawOne);
  const concurrentRatio = ratio(ledgerConcurrent.value, rawHundred);
  const versusEmmett = (ledger: number | null, emmett: { value: number | null; note?: string }, what: string) =>
    figure(`ledger / Emmett, ${what}`, {
      value: ratio(ledger, emmett.value),
      ...(emmett.value === null ? { note: 'Emmett gave no rate (see its figure)' } : ledger === null ? { note: 'the ledger gave no rate (see its figure)' } : {}),
    }, '×');

  return [
    figure(NAMES.rawOne, { value: rawOne }, 'rows/s'),
    figure(NAMES.rawHundred, { value: rawHundred }, 'rows/s'),
    {
      ...figure(NAMES.ledgerSequential, ledgerSequential),
      ...(sequentialRatio === null ? {} : { ratio: { to: NAMES.rawOne, value: sequentialRatio } }),
      target: { text: `>= ${SEQUENTIAL_TARGET} of ${NAMES.rawOne}`, met: sequentialRatio !== null && sequentialRatio >= SEQUENTIAL_TARGET },
    },
    {
      ...figure(NAMES.ledgerConcurrent, ledgerConcurrent),
      ...(concurrentRatio === null ? {} : { ratio: { to: NAMES.rawHundred, value: concurrentRatio } }),
      target: { text: `>= ${CONCURRENT_TARGET} of ${NAMES.rawHundred}`, met: concurrentRatio !== null && concurrentRatio >= CONCURRENT_TARGET },
    },
    figure(NAMES.emmettSequential, { ...emmettSequential, note: [emmettSequential.note, emmettDurability].filter(Boolean).join('; ') }),
    figure(NAMES.emmettConcurrent, emmettConcurrent),
    versusEmmett(ledgerSequential.value, emmettSequential, 'sequential'),
    versusEmmett(ledgerConcurrent.value, emmettConcurrent, `${CONCURRENT} concurrent`),
  ];
}

export const storeScenario: Scenario = { name: 'store', run };
