import { randomUUID } from 'node:crypto';
import { DEFAULT_SESSION_TTL_MS, type StartSessionBody } from '../contract/index.js';
import { derivedEventId, sessionStreamName, type Actor } from '../events/index.js';
import type { EventStore } from '../store/port.js';
import type { CommandHandler, HandledCommand } from './command-handler.js';
import { InvalidInputError } from './errors.js';

export interface StartSessionDeps {
  commands: CommandHandler;
  store: EventStore;
  clock: () => Date;
}

export interface StartedSession {
  sessionId: string;
  /** The session's deadline as recorded (a retry answers the original's). */
  expiresAt: string;
  handled: HandledCommand;
}

/**
 * The controller starts a session. With an idempotency key and no session id, the id is
 * derived from the key, so a retried start finds the session it created.
 */
export async function startSession(deps: StartSessionDeps, input: StartSessionBody, actor: Actor): Promise<StartedSession> {
  const { commands, clock } = deps;
  const sessionId = input.sessionId ?? (input.eventId ? derivedEventId(`session/${input.eventId}`) : randomUUID());
  const { expiresAt, retried } = await expiryOf(deps, sessionId, input);
  if (!retried && Date.parse(expiresAt) <= clock().getTime()) {
    throw new InvalidInputError([{ path: 'expiresAt', message: 'must be in the future' }]);
  }
  const { userId, provider, browserVmId } = input;
  const handled = await commands(
    { type: 'StartSession', data: { sessionId, userId, provider, browserVmId, expiresAt } },
    { eventId: input.eventId ?? randomUUID(), actor, correlationId: input.correlationId },
  );
  return { sessionId, expiresAt: handled.state.expiresAt ?? expiresAt, handled };
}

/**
 * The session's expiry: as given, or `DEFAULT_SESSION_TTL_MS` from now; but a retried start
 * (its event id already recorded) keeps the expiry it was first given, or it would differ
 * from the original and be refused, and is answered even once that moment has passed.
 */
async function expiryOf(
  { store, clock }: StartSessionDeps,
  sessionId: string,
  input: StartSessionBody,
): Promise<{ expiresAt: string; retried: boolean }> {
  if (input.eventId !== undefined) {
    const [first] = await store.readStream(sessionStreamName(sessionId), { maxCount: 1 });
    if (first?.eventId === input.eventId && first.type === 'SessionStarted') {
      return { expiresAt: input.expiresAt ?? first.data.expiresAt, retried: true };
    }
  }
  return { expiresAt: input.expiresAt ?? new Date(clock().getTime() + DEFAULT_SESSION_TTL_MS).toISOString(), retried: false };
}
