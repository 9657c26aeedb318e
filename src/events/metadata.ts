import { z } from 'zod';
import { ActorRole, Timestamp, Trace } from '../contract/index.js';

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
});
export type EventMetadataInput = z.infer<typeof EventMetadataInput>;

/** The metadata as stored and read back. */
export const EventMetadata = EventMetadataInput.extend({
  schemaVersion: z.int().positive(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;
