import type { Actor } from '../events/index.js';

/**
 * Whether the caller may see a session at all, once it is read: the HTTP layer builds one from
 * the token (an agent sees its one session, a frontend its user's). A use case answers a
 * session the caller may not see exactly as one that does not exist, so that ids cannot be
 * probed: the answer never tells "someone else's" from "no such session".
 */
export type SessionVisibility = (sessionId: string, session: { userId: string | null }) => boolean;

/** Who calls a use case: the actor its facts are recorded as, and which sessions it may see. */
export interface Caller {
  actor: Actor;
  maySee: SessionVisibility;
}
