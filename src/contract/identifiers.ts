import { z } from 'zod';

// The values that name things on the wire and in the log. Every schema that holds one of
// them uses these, so a rule (a length, a character set) is stated once.

/**
 * A session id names a stream (`authSession-<sessionId>`), so it is kept to characters that
 * are safe in a stream name, a URL path segment and a log line. Legacy ids are not all UUIDs.
 */
export const SessionId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'letters, digits, ".", "_", ":" or "-", at most 128');

/** The client-chosen idempotency key of an event. */
export const EventId = z.uuid();

/** Provider slugs; which ones are accepted is configuration, checked at the edge. */
export const Provider = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a lower-case provider slug');

/** An opaque reference or identifier chosen by another system (a VM id, a credential row id). */
export const ExternalRef = z.string().min(1).max(256);

/** Free text written for people: reasons and error messages. */
export const Text = z.string().min(1).max(2000);

/** A machine-readable failure reason (`consentDenied`, `vmDestroyed`, …): short, for grouping. */
export const FailureReason = z.string().min(1).max(128);

/** A correlation or causation id: whatever the caller's tracing uses. */
export const Trace = z.string().min(1).max(256);

export const Timestamp = z.iso.datetime({ offset: true });

/** Positions and revisions travel as decimal strings: they are 64-bit. */
export const Decimal = z.string().regex(/^(0|[1-9][0-9]{0,18})$/, 'a non-negative decimal integer');
