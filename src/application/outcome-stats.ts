import { HOUR_MS } from '../../projections/index.js';
import type { OutcomesJson, OutcomesQuery } from '../contract/index.js';
import type { OutcomeCount, OutcomesReadModel } from '../projector/outcomes-read-model.js';

/** How far back the stats reach when the query names no `from`. */
const DEFAULT_WINDOW_MS = 7 * 24 * HOUR_MS;
/** How many failure reasons the stats name. */
const TOP_REASONS = 10;

/**
 * Sessions by outcome, from the `session_outcomes` projection: the buckets of sessions created
 * in the window, and per provider the counts by status and the completion rate, and the top
 * failure reasons.
 */
export function outcomeStats(deps: { outcomes: OutcomesReadModel; clock: () => Date }, query: OutcomesQuery): OutcomesJson {
  const to = query.to === undefined ? (Math.floor(deps.clock().getTime() / HOUR_MS) + 1) * HOUR_MS : Date.parse(query.to);
  const from = query.from === undefined ? to - DEFAULT_WINDOW_MS : Date.parse(query.from);
  // Hours whose start is in [from, to).
  const counts = deps.outcomes.counts(Math.ceil(from / HOUR_MS), Math.ceil(to / HOUR_MS), query.provider);
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    position: String(deps.outcomes.checkpoint()),
    buckets: counts.map(({ hour, ...count }) => ({ hour: new Date(hour * HOUR_MS).toISOString(), ...count })),
    providers: byProvider(counts),
    topFailureReasons: topReasons(counts),
  };
}

function byProvider(counts: readonly OutcomeCount[]): OutcomesJson['providers'] {
  const providers = new Map<string | null, OutcomesJson['providers'][number]>();
  for (const { provider, status, sessions } of counts) {
    const entry = providers.get(provider) ?? { provider, sessions: 0, pending: 0, completed: 0, failed: 0, cancelled: 0, completionRate: null };
    entry.sessions += sessions;
    entry[status] += sessions;
    providers.set(provider, entry);
  }
  return [...providers.values()]
    .map((entry) => {
      const decided = entry.completed + entry.failed + entry.cancelled;
      return { ...entry, completionRate: decided === 0 ? null : entry.completed / decided };
    })
    .sort((a, b) => String(a.provider).localeCompare(String(b.provider)));
}

function topReasons(counts: readonly OutcomeCount[]): OutcomesJson['topFailureReasons'] {
  const reasons = new Map<string, number>();
  for (const { failureReason, sessions } of counts) if (failureReason !== null) reasons.set(failureReason, (reasons.get(failureReason) ?? 0) + sessions);
  return [...reasons]
    .map(([reason, sessions]) => ({ reason, sessions }))
    .sort((a, b) => b.sessions - a.sessions || a.reason.localeCompare(b.reason))
    .slice(0, TOP_REASONS);
}
