import { z } from 'zod';
import { Decimal, SessionId, Timestamp } from './identifiers.js';

// What auditors get: the seals document, the verify report, and the export's query.

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in lower-case hex');

/**
 * A seal: a signed statement that the log's heads, as of `position`, hashed to `headsHash`.
 * `previousSeal` is SHA-256 over the previous seal's statement; the signature is Ed25519
 * over the statement `{ position, headsHash, previousSeal, sealedAt }` as JSON, in base64.
 */
export const Seal = z.strictObject({
  position: Decimal,
  headsHash: Sha256,
  previousSeal: Sha256.nullable(),
  sealedAt: Timestamp,
  signature: z.string().min(1),
});
export type Seal = z.infer<typeof Seal>;

/** `GET /v1/audit/seals` and `ledger seal --list`; what `ledger verify --seals` reads. */
export const SealsDocument = z.strictObject({
  algorithm: z.literal('Ed25519'),
  /** The key that signs the seals (SPKI, PEM); null when this ledger has none configured. */
  publicKey: z.string().nullable(),
  /** Oldest first. */
  seals: z.array(Seal),
});
export type SealsDocument = z.infer<typeof SealsDocument>;

/** `GET /v1/audit/verify`: each difference between the read model and a fresh fold, each broken chain. */
export const VerifyReportJson = z.object({
  position: Decimal,
  checked: z.number().int(),
  events: z.number().int(),
  differences: z.array(z.object({ sessionId: z.string(), column: z.string(), readModel: z.string(), fold: z.string() })),
  chainBreaks: z.array(z.object({ sessionId: z.string(), revision: Decimal, reason: z.enum(['hash', 'sequence']) })),
  undecodable: z.array(z.object({ sessionId: z.string(), revision: Decimal, reason: z.string() })),
  /** The `session_outcomes` buckets whose counts differ from a fresh fold. */
  outcomeDifferences: z
    .array(
      z.object({
        hour: z.string(),
        provider: z.string().nullable(),
        status: z.string(),
        failureReason: z.string().nullable(),
        readModel: z.number().int(),
        fold: z.number().int(),
      }),
    )
    .optional(),
  clean: z.boolean(),
});
export type VerifyReportJson = z.infer<typeof VerifyReportJson>;

/** `GET /v1/audit/export`: from a position (exclusive), one session, a time range of `recordedAt`. */
export const AuditExportQuery = z.strictObject({
  after: Decimal.optional(),
  sessionId: SessionId.optional(),
  since: Timestamp.optional(),
  until: Timestamp.optional(),
});
