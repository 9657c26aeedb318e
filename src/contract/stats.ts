import { z } from 'zod';
import { Decimal, Provider, Timestamp } from './identifiers.js';
import { SessionStatus } from './status.js';

/** `GET /v1/stats/outcomes`: sessions created in [from, to), by hour; of one provider if named. */
export const OutcomesQuery = z.strictObject({
  /** Inclusive; the start of its hour counts. Defaults to seven days before `to`. */
  from: Timestamp.optional(),
  /** Exclusive; defaults to the end of the current hour. */
  to: Timestamp.optional(),
  provider: Provider.optional(),
});
export type OutcomesQuery = z.infer<typeof OutcomesQuery>;

const Count = z.number().int().nonnegative();

export const OutcomesJson = z.object({
  from: z.string(),
  to: z.string(),
  /** The `session_outcomes` projection's checkpoint: the counts are as of this position. */
  position: Decimal,
  /** Sessions by the hour they were created (its start, ISO), provider, status and failure reason. */
  buckets: z.array(
    z.object({ hour: z.string(), provider: z.string().nullable(), status: SessionStatus, failureReason: z.string().nullable(), sessions: Count }),
  ),
  /** Per provider: sessions by status, and the share of those with an outcome that completed (null when none has one). */
  providers: z.array(
    z.object({
      provider: z.string().nullable(),
      sessions: Count,
      pending: Count,
      completed: Count,
      failed: Count,
      cancelled: Count,
      completionRate: z.number().min(0).max(1).nullable(),
    }),
  ),
  /** The most frequent reasons of the failed sessions, most first (at most ten). */
  topFailureReasons: z.array(z.object({ reason: z.string(), sessions: Count })),
});
export type OutcomesJson = z.infer<typeof OutcomesJson>;
