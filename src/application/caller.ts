import type { Actor } from '../events/index.js';

/**
 * What authorization still has to see once the session is read: whose it is. The HTTP layer
 * passes a check that throws when the caller's token may not touch a session of that user.
 */
export type OwnerCheck = (session: { userId: string | null }) => void;

/** Who calls a use case: the actor its facts are recorded as, and the check of the session's owner. */
export interface Caller {
  actor: Actor;
  mayUse: OwnerCheck;
}
