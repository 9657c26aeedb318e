import type { Caller, OwnerCheck } from '../application/caller.js';
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
  /** Touching this session at all: what the token alone can tell (an agent's scope). */
  | { kind: 'useSession'; sessionId: string }
  /** Touching a session of this user: what only the session can tell (a frontend's user). */
  | { kind: 'ownSession'; ownerUserId: string | null }
  | { kind: 'list'; userId: string | undefined }
  /** Anything under /v1/audit: the log itself, its checks and its seals. */
  | { kind: 'audit' }
  /** The outcome statistics. */
  | { kind: 'stats' }
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
 * The ledger's authorization rules, all in one place (DESIGN.md's route table):
 * agent → its own session, CredentialsStored and SessionFailed only; controller → start,
 * writer facts, VM destroyed, read all; frontend → its user's sessions, read and
 * SessionCancelled; auditor → read everything. SessionExpired is the ledger's own.
 * Throws a `forbidden` problem; returns when allowed.
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
    case 'useSession':
      if (principal.role === 'agent' && principal.sessionId !== action.sessionId) {
        refuse('this agent token is scoped to another session');
      }
      return;
    case 'ownSession':
      if (principal.role === 'frontend' && principal.userId !== action.ownerUserId) refuse("this session is not the token's user's");
      return;
    case 'audit':
      if (role !== 'auditor') refuse(`a ${role} token cannot do this; it takes an auditor token`);
      return;
    case 'stats':
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

/** The owner check a use case runs once it has read the session: a frontend touches its user's sessions only. */
export const ownerCheckOf =
  (principal: Principal): OwnerCheck =>
  ({ userId }) =>
    authorize(principal, { kind: 'ownSession', ownerUserId: userId });

export const callerOf = (principal: Principal): Caller => ({ actor: actorOf(principal), mayUse: ownerCheckOf(principal) });
