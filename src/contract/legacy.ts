import { z } from 'zod';
import { ExternalRef, SessionId } from './identifiers.js';
import { SessionJson } from './sessions.js';

/**
 * The legacy `auth_sessions` column of each field of a v1 session: the one map from which
 * the legacy routes' answers, and the read model's table, take their snake_case names.
 */
export const LEGACY_COLUMNS = {
  sessionId: 'session_id',
  userId: 'user_id',
  provider: 'provider',
  browserVmId: 'browser_vm_id',
  status: 'status',
  completedAt: 'completed_at',
  errorMessage: 'error_message',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  revision: 'revision',
  position: 'position',
  anomalies: 'anomalies',
} as const satisfies Record<keyof SessionJson, string>;

type LegacyColumns = typeof LEGACY_COLUMNS;

/** An object with the fields of a v1 session renamed to their legacy columns. */
export type WithLegacyColumns<T extends Record<keyof LegacyColumns, unknown>> = {
  [K in keyof LegacyColumns as LegacyColumns[K]]: T[K];
};

/** Renames the fields of a v1 session (or a row with the same fields) to the legacy columns. */
export function withLegacyColumns<T extends Record<keyof LegacyColumns, unknown>>(fields: T): WithLegacyColumns<T> {
  const renamed: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(LEGACY_COLUMNS)) renamed[column] = fields[field as keyof LegacyColumns];
  return renamed as WithLegacyColumns<T>;
}

/** The legacy master controller's shape: the v1 session, with the `auth_sessions` column names. */
export const LegacySessionJson = z.object(withLegacyColumns(SessionJson.shape));
export type LegacySessionJson = z.infer<typeof LegacySessionJson>;

export const LegacySessionParams = z.strictObject({ sessionId: SessionId });

/** What the legacy `complete` call may carry; no body at all is fine (fastify gives null). */
export const LegacyCompleteBody = z
  .strictObject({
    /** The id of the row where the controller stored the credential; never the secret. */
    credentialRef: ExternalRef.optional(),
  })
  .nullish();
export type LegacyCompleteBody = z.infer<typeof LegacyCompleteBody>;

/** The inverse of `withLegacyColumns`: the v1 fields of a row read with the legacy columns. */
export function fromLegacyColumns<T extends Record<keyof LegacyColumns, unknown>>(row: WithLegacyColumns<T>): Pick<T, keyof LegacyColumns> {
  const fields: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(LEGACY_COLUMNS)) fields[field] = (row as Record<string, unknown>)[column];
  return fields as Pick<T, keyof LegacyColumns>;
}
