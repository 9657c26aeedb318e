import type { OutcomesJson } from '../../src/contract/index.js';

/** What the completion chart draws: one x per period (an hour or a day), one series of completion rates per provider. */
export interface CompletionSeries {
  /** The start of each period, in seconds since the epoch (uPlot's x). */
  starts: number[];
  /** Per provider, the share of the sessions created in each period with an outcome that completed; null where none has one yet. */
  rates: { provider: string; values: (number | null)[] }[];
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/**
 * The completion rate per provider per period (`periodMs`: an hour, or a day), from the
 * hourly outcome buckets: completed over completed, failed and cancelled (a pending session
 * has no outcome yet). Periods are whole UTC hours or days; every one that overlaps
 * [from, to) has its x, so a quiet period is a gap, not a line drawn across it.
 */
export function completionSeries({ from, to, buckets }: Pick<OutcomesJson, 'from' | 'to' | 'buckets'>, periodMs = HOUR_MS): CompletionSeries {
  const periodOf = (instant: number) => Math.floor(instant / periodMs) * periodMs;
  const end = Date.parse(to);
  const starts: number[] = [];
  for (let start = periodOf(Date.parse(from)); start < end; start += periodMs) starts.push(start / 1000);
  const index = new Map(starts.map((start, at) => [start, at]));
  const tallies = new Map<string, { completed: number[]; decided: number[] }>();
  for (const { hour, provider, status, sessions } of buckets) {
    if (status === 'pending') continue;
    const at = index.get(periodOf(Date.parse(hour)) / 1000);
    if (at === undefined) continue;
    const name = provider ?? '(none)';
    let tally = tallies.get(name);
    if (!tally) tallies.set(name, (tally = { completed: starts.map(() => 0), decided: starts.map(() => 0) }));
    tally.decided[at]! += sessions;
    if (status === 'completed') tally.completed[at]! += sessions;
  }
  const rates = [...tallies]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([provider, { completed, decided }]) => ({
      provider,
      values: decided.map((count, at) => (count === 0 ? null : completed[at]! / count)),
    }));
  return { starts, rates };
}
