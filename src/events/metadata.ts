import { z } from 'zod';
import { ActorRole, Timestamp, Trace } from '../contract/index.js';

/** A W3C `traceparent` (version 00): version, trace id, parent span id, flags, in lower-case hex. */
export const Traceparent = z.string().regex(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'a W3C traceparent');

export const Actor = z.strictObject({
  role: ActorRole,
  sub: z.string().min(1).max(256),
});
export type Actor = z.infer<typeof Actor>;

/**
 * What a writer supplies besides the event: who did it, when the server saw it, and the
 * trace that ties it to other events. `schemaVersion` is stamped by the codec, not by callers.
 */
export const EventMetadataInput = z.strictObject({
  correlationId: Trace.optional(),
  causationId: Trace.optional(),
  actor: Actor,
  recordedAt: Timestamp,
  /** The W3C trace context of the command that recorded it, when tracing is on: what links the spans it causes to the request. */
  traceparent: Traceparent.optional(),
});
export type EventMetadataInput = z.infer<typeof EventMetadataInput>;

/** The metadata as stored and read back. */
export const EventMetadata = EventMetadataInput.extend({
  schemaVersion: z.int().positive(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;
