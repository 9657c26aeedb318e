import type { RecordableFact, SessionCommand } from '../decide/index.js';
import type { EventData, EventOfType } from '../events/index.js';
import type { Caller } from './caller.js';
import type { CommandHandler, HandledCommand } from './command-handler.js';

/** A fact a caller posts about a session: a writer's fact, or the user's cancellation. */
export type PostedFact = RecordableFact | EventOfType<'SessionCancelled'>;

/** A posted fact as the request carries it: the session comes from the path, so its data may leave it out. */
export type PostedFactBody = {
  [T in PostedFact['type']]: { type: T; data: Omit<EventData<T>, 'sessionId'> & { sessionId?: string | undefined } };
}[PostedFact['type']];

export interface RecordFactInput {
  sessionId: string;
  fact: PostedFactBody;
  /** The idempotency key: a retry with the same one is answered, not doubled. */
  eventId: string;
  correlationId?: string | undefined;
  causationId?: string | undefined;
  /** The command applies only if the stream is at exactly this revision. */
  expectedRevision?: bigint | undefined;
}

/**
 * Records a fact of a session that exists. A writer's fact is always recorded; a user's
 * cancellation is an intent, which the decider refuses once the session has an outcome.
 */
export async function recordFact(deps: { commands: CommandHandler }, input: RecordFactInput, caller: Caller): Promise<HandledCommand> {
  const { sessionId, eventId, correlationId, causationId, expectedRevision } = input;
  // The type and its data travel together; TypeScript cannot follow that through a spread.
  const fact = { type: input.fact.type, data: { ...input.fact.data, sessionId } } as PostedFact;
  const command: SessionCommand =
    fact.type === 'SessionCancelled' ? { type: 'CancelSession', data: fact.data } : { type: 'RecordFact', data: { fact } };
  return deps.commands(command, { eventId, actor: caller.actor, correlationId, causationId, expectedRevision }, caller.maySee);
}
