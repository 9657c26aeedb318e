import type { Caller, SessionVisibility } from '../application/caller.js';
import type { PostedFact } from '../application/record-fact.js';
import type { EventType } from '../contract/index.js';
import type { Actor } from '../events/index.js';
import type { Principal } from './claims.js';
import { ProblemError } from './problem-error.js';

/** Everything a token can ask of the ledger, with what the rule needs to know. */
export type Action =
  | { kind: 'startSession' }
  | { kind: 'vmDestroyed' }
  /** Recording a fact of this type, whatever the session. */
  | { kind: 'record'; type: EventType }
  | { kind: 'list'; userId: string | undefined }
  /** Anything under /v1/audit: the log itself, its checks and its seals. */
  | { kind: 'audit' }
  /** The outcome statistics. */
  | { kind: 'stats' }
  /** The webhook subscriptions and their delivery. */
  | { kind: 'webhooks' }
  /** Every session's changes, live. */
  | { kind: 'watchAll' }
  /** The auditor console: its login, and through it the reads an auditor or a controller may make. */
  | { kind: 'console' };

/** The facts each writer reports. SessionStarted and SessionExpired have their own writers. */
const factsOf: Record<Principal['role'], readonly PostedFact['type'][]> = {
  agent: ['CredentialsStored', 'SessionFailed'],
  controller: ['CredentialsStored', 'VmDestroyed', 'SessionFailed'],
  frontend: ['SessionCancelled'],
  // Stryker disable next-line ArrayDeclaration: equivalent, a list of a name no event type has refuses every type, as the empty one does.
  auditor: [],
};

function refuse(detail: string): never {
  throw new ProblemError('forbidden', detail);
}

/**
 * The ledger's authorization rules by role, all in one place (DESIGN.md's route table):
 * agent → CredentialsStored and SessionFailed only; controller → start, writer facts, VM
 * destroyed, read all; frontend → read, list its own, and SessionCancelled; auditor → read
 * everything. SessionExpired is the ledger's own. Throws a `forbidden` problem (403: what a
 * role may do is no secret, the OpenAPI document says it); returns when allowed. Which
 * sessions a token sees is `visibilityOf`'s, answered as not found.
 */
export function authorize(principal: Principal, action: Action): void {
  const { role } = principal;
  switch (action.kind) {
    case 'startSession':
    case 'vmDestroyed':
      if (role !== 'controller') refuse(`a ${role} token cannot do this; it takes a controller token`);
      return;
    case 'record':
      if (action.type === 'SessionStarted') refuse('sessions are started with POST /v1/sessions');
      if (action.type === 'SessionExpired') refuse('SessionExpired is recorded by the ledger itself');
      if (!(factsOf[role] as readonly EventType[]).includes(action.type)) refuse(`a ${role} token cannot record ${action.type}`);
      return;
    case 'audit':
      if (role !== 'auditor') refuse(`a ${role} token cannot do this; it takes an auditor token`);
      return;
    case 'stats':
    case 'webhooks':
    case 'watchAll':
    case 'console':
      if (role !== 'auditor' && role !== 'controller') refuse(`a ${role} token cannot do this; it takes an auditor or controller token`);
      return;
    case 'list':
      if (role === 'agent') refuse('an agent token reads its own session only');
      if (role === 'frontend' && action.userId !== undefined && action.userId !== principal.userId) {
        refuse("a frontend token lists its own user's sessions only");
      }
      return;
  }
}

/** Refuses a posted fact the token may not record; else gives it back as one a caller may post. */
export function authorizeFact<Posted extends { type: EventType }>(principal: Principal, posted: Posted): Extract<Posted, { type: PostedFact['type'] }> {
  authorize(principal, { kind: 'record', type: posted.type });
  // Every fact a role may record is a PostedFact's: `factsOf` holds no other type.
  return posted as Extract<Posted, { type: PostedFact['type'] }>;
}

/** Who the token's facts are recorded as. */
export const actorOf = ({ role, sub }: Principal): Actor => ({ role, sub });

/**
 * Which sessions a token sees: an agent its one session, a frontend its user's, the controller
 * and the auditor every one. A use case answers a session the token does not see as one that
 * does not exist (404, the same body as for an unknown id), so that another user's session
 * cannot be told from no session: ids cannot be probed.
 */
export const visibilityOf =
  (principal: Principal): SessionVisibility =>
  (sessionId, { userId }) => {
    switch (principal.role) {
      case 'agent':
        return principal.sessionId === sessionId;
      case 'frontend':
        return principal.userId === userId;
      case 'controller':
      case 'auditor':
        return true;
    }
  };

export const callerOf = (principal: Principal): Caller => ({ actor: actorOf(principal), maySee: visibilityOf(principal) });
