/**
 * What the crash test's writers do: each session follows a script of facts over every writer
 * route (start, facts, VM destroyed, cancel, legacy complete), some of them at once. Each
 * step is built once, with its event ids, and sent as it is until answered; the step knows
 * which event it records and where to find the acknowledgement in the answer.
 */
import { randomUUID } from 'node:crypto';
import { derivedEventId } from '../../src/events/derived-id.js';
import type { SeededRandom } from '../support/seeded-random.js';
import type { ChaosRequest } from './retrying-client.js';

type Writer = 'agent' | 'controller';

export type Step =
  | { kind: 'start' }
  | { kind: 'fact'; type: 'CredentialsStored' | 'SessionFailed' | 'VmDestroyed'; by: Writer }
  | { kind: 'vmDestroyed' }
  | { kind: 'cancel' }
  | { kind: 'legacyComplete'; by: Writer }
  /** Sent at once, each by its own writer: the order they land in is the server's. */
  | { kind: 'together'; steps: readonly Step[] };

const start: Step = { kind: 'start' };
const fact = (type: 'CredentialsStored' | 'SessionFailed' | 'VmDestroyed', by: Writer = 'agent'): Step => ({ kind: 'fact', type, by });
const vmDestroyed: Step = { kind: 'vmDestroyed' };
const cancel: Step = { kind: 'cancel' };
const legacyComplete = (by: Writer): Step => ({ kind: 'legacyComplete', by });

/**
 * The scripts, each a corner of the truth table: completed then the VM gone; a credential
 * after the VM's failure (the bug the ledger exists for), by the legacy route; a credential
 * after a cancel; cancels refused once the session has an outcome; a credential and the VM's
 * report racing; two failures, the first kept; a session left pending. Concurrent steps only
 * where every order gives the same status, so the table can say what the end must be.
 */
export const SCRIPTS: readonly (readonly Step[])[] = [
  [start, fact('CredentialsStored'), vmDestroyed],
  [start, vmDestroyed, legacyComplete('agent')],
  [start, cancel, legacyComplete('controller')],
  [start, fact('SessionFailed'), cancel],
  [start, { kind: 'together', steps: [fact('CredentialsStored'), vmDestroyed] }],
  [start, fact('VmDestroyed', 'controller'), fact('SessionFailed'), cancel],
  [start],
  [start, cancel, cancel],
  [start, { kind: 'together', steps: [fact('CredentialsStored', 'controller'), fact('VmDestroyed', 'controller'), legacyComplete('agent')] }],
];

export interface SessionPlan {
  sessionId: string;
  userId: string;
  vmId: string;
  steps: readonly Step[];
}

/** `count` sessions, each with a script drawn by `random`. */
export function planSessions(random: SeededRandom, count: number, prefix: string): SessionPlan[] {
  return Array.from({ length: count }, (_, index) => ({
    sessionId: `${prefix}-${index}`,
    userId: `user-${index % 5}`,
    vmId: `vm-${prefix}-${index}`,
    steps: random.pick(SCRIPTS),
  }));
}

/** How many requests the plans make. */
export const requestCount = (plans: readonly SessionPlan[]) => {
  const count = (steps: readonly Step[]): number => steps.reduce((sum, step) => sum + (step.kind === 'together' ? count(step.steps) : 1), 0);
  return plans.reduce((sum, plan) => sum + count(plan.steps), 0);
};

/** An event a 2xx acknowledged: where the answer says it is. */
export interface Acknowledged {
  sessionId: string;
  eventId: string;
  type: string;
  position: string;
  revision: string;
}

/** The tokens the writers hold: the controller's, each user's frontend, and each session's agent (from its start). */
export interface WriterTokens {
  controller: string;
  frontend: (userId: string) => string;
  agent: (sessionId: string) => string;
}

/** A single step, ready to send: its request, the fact it records, and how to read its acknowledgement. */
export interface ReadyStep {
  request: ChaosRequest;
  type: string;
  acknowledged: (body: unknown) => Acknowledged;
}

type Placed = { position: string; revision: string };

/** Builds a step's request once: a retry must send these very event ids. */
export function readyStep(step: Exclude<Step, { kind: 'together' }>, plan: SessionPlan, tokens: WriterTokens): ReadyStep {
  const { sessionId, userId, vmId } = plan;
  const token = (by: Writer) => (by === 'agent' ? tokens.agent(sessionId) : tokens.controller);
  const placedAt = (eventId: string, type: string) => (body: unknown) => {
    const { position, revision } = body as Placed;
    return { sessionId, eventId, type, position, revision };
  };
  const eventId = randomUUID();
  switch (step.kind) {
    case 'start':
      return {
        type: 'SessionStarted',
        request: {
          method: 'POST',
          path: '/v1/sessions',
          token: tokens.controller,
          body: { sessionId, userId, provider: 'gemini', browserVmId: vmId, eventId },
        },
        acknowledged: placedAt(eventId, 'SessionStarted'),
      };
    case 'fact': {
      const data = {
        CredentialsStored: { provider: 'gemini', credentialRef: `cred-${sessionId}` },
        SessionFailed: { reason: 'consentDenied', errorMessage: 'The user denied consent' },
        VmDestroyed: { vmId, reason: 'VM cleaned up' },
      }[step.type];
      return {
        type: step.type,
        request: { method: 'POST', path: `/v1/sessions/${sessionId}/events`, token: token(step.by), body: { type: step.type, eventId, data } },
        acknowledged: placedAt(eventId, step.type),
      };
    }
    case 'vmDestroyed':
      return {
        type: 'VmDestroyed',
        request: { method: 'POST', path: `/v1/vms/${vmId}/destroyed`, token: tokens.controller, body: { reason: 'VM cleaned up', eventId } },
        // The route records one event per session of the VM, its id derived from the call's.
        acknowledged: (body) => {
          const { sessions } = body as { sessions: (Placed & { sessionId: string })[] };
          const [only, ...others] = sessions;
          if (only?.sessionId !== sessionId || others.length > 0) throw new Error(`VM ${vmId} answered for ${JSON.stringify(sessions)}`);
          return placedAt(derivedEventId(`VmDestroyed/${eventId}/${sessionId}`), 'VmDestroyed')(only);
        },
      };
    case 'cancel':
      return {
        type: 'SessionCancelled',
        request: {
          method: 'POST',
          path: `/v1/sessions/${sessionId}/events`,
          token: tokens.frontend(userId),
          body: { type: 'SessionCancelled', eventId, data: { cancelledBy: userId } },
        },
        acknowledged: placedAt(eventId, 'SessionCancelled'),
      };
    case 'legacyComplete':
      return {
        type: 'CredentialsStored',
        request: { method: 'POST', path: `/api/auth/session/${sessionId}/complete`, token: token(step.by), body: { credentialRef: `legacy-${sessionId}` } },
        // The legacy call carries no key: the ledger derives one from the session.
        acknowledged: placedAt(derivedEventId(`legacy-complete/${sessionId}`), 'CredentialsStored'),
      };
  }
}
