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

/**
 * Runs `append(0 … count-1)` with `appenders` of them in flight at any time; after `budgetMs`
 * no new append starts (a store that slows to a crawl still ends the run).
 */
export async function driveAppends(
  count: number,
  appenders: number,
  append: (index: number) => Promise<unknown>,
  budgetMs = Infinity,
): Promise<AppendRun> {
  const acknowledged = new Set<number>();
  const errors = new Map<string, number>();
  let next = 0;
  const deadline = performance.now() + budgetMs;
  const appender = async () => {
    while (next < count && performance.now() < deadline) {
      const index = next++;
      try {
        await append(index);
        acknowledged.add(index);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        errors.set(message, (errors.get(message) ?? 0) + 1);
      }
    }
  };
  const begin = performance.now();
  await Promise.all(Array.from({ length: appenders }, appender));
  return { attempted: next, acknowledged, errors, ms: performance.now() - begin };
}

/** The errors as a short phrase: `12 errors (SQLITE_BUSY: database is locked ×12)`. */
export function errorsText(errors: Map<string, number>): string {
  const total = [...errors.values()].reduce((sum, n) => sum + n, 0);
  const kinds = [...errors].slice(0, 3).map(([message, n]) => `${message.slice(0, 80)} ×${n}`);
  return `${total} errors (${kinds.join('; ')}${errors.size > 3 ? '; …' : ''})`;
}
