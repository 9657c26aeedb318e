import type { EventType } from '../events/index.js';
import type { Principal } from './claims.js';
import { ProblemError } from './problems.js';

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
  | { kind: 'list'; userId: string | undefined };

/** The facts each writer reports. SessionStarted and SessionExpired have their own writers. */
const factsOf: Record<Principal['role'], readonly EventType[]> = {
  agent: ['CredentialsStored', 'SessionFailed'],
  controller: ['CredentialsStored', 'VmDestroyed', 'SessionFailed'],
  frontend: ['SessionCancelled'],
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
      if (!factsOf[role].includes(action.type)) refuse(`a ${role} token cannot record ${action.type}`);
      return;
    case 'useSession':
      if (principal.role === 'agent' && principal.sessionId !== action.sessionId) {
        refuse('this agent token is scoped to another session');
      }
      return;
    case 'ownSession':
      if (principal.role === 'frontend' && principal.userId !== action.ownerUserId) refuse("this session is not the token's user's");
      return;
    case 'list':
      if (role === 'agent') refuse('an agent token reads its own session only');
      if (role === 'frontend' && action.userId !== undefined && action.userId !== principal.userId) {
        refuse("a frontend token lists its own user's sessions only");
      }
      return;
  }
}
