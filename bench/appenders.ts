// Appends driven as a user drives them: one appender awaits each append before the next, or
// many appenders do so at once (as many concurrent requests would). Every append is counted as
// acknowledged or failed, so a store that fails some, or acknowledges what it did not keep,
// is said as such rather than given a rate.
import { performance } from 'node:perf_hooks';

export interface AppendRun {
  /** Appends started: all of them, unless the time budget ran out first. */
  attempted: number;
  /** Appends whose promise resolved, by index. */
  acknowledged: Set<number>;
  /** Failed appends, by error message. */
  errors: Map<string, number>;
  ms: number;
}

export const emptyRun = (): AppendRun => ({ attempted: 0, acknowledged: new Set(), errors: new Map(), ms: 0 });

export interface Drive {
  /** The indexes appended: `from` (default 0) up to, not including, `to`. */
  from?: number;
  to: number;
  /** How many appends are in flight at any time. */
  appenders: number;
  /** After this long no new append starts: a store that slows to a crawl still ends the run. */
  budgetMs?: number;
}

/**
 * Runs `append(from … to-1)`, `appenders` of them in flight at any time, and adds what
 * happened to `run` (so a run can be measured in rounds, between other stores' rounds).
 */
export async function driveAppends(
  { from = 0, to, appenders, budgetMs = Infinity }: Drive,
  append: (index: number) => Promise<unknown>,
  run: AppendRun = emptyRun(),
): Promise<AppendRun> {
  let next = from;
  const deadline = performance.now() + budgetMs;
  const appender = async () => {
    while (next < to && performance.now() < deadline) {
      const index = next++;
      run.attempted++;
      try {
        await append(index);
        run.acknowledged.add(index);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        run.errors.set(message, (run.errors.get(message) ?? 0) + 1);
      }
    }
  };
  const begin = performance.now();
  await Promise.all(Array.from({ length: appenders }, appender));
  run.ms += performance.now() - begin;
  return run;
}

/** The errors as a short phrase: `12 errors (SQLITE_BUSY: database is locked ×12)`. */
export function errorsText(errors: Map<string, number>): string {
  const total = [...errors.values()].reduce((sum, n) => sum + n, 0);
  const kinds = [...errors].slice(0, 3).map(([message, n]) => `${message.slice(0, 80)} ×${n}`);
  return `${total} errors (${kinds.join('; ')}${errors.size > 3 ? '; …' : ''})`;
}
