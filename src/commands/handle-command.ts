import { fold, type SessionState } from '../../projections/index.js';
import { decide, type SessionCommand } from '../decide/index.js';
import { derivedEventId, sessionStreamName, type Actor, type NewEvent } from '../events/index.js';
import { WrongExpectedRevisionError } from '../store/errors.js';
import type { AppendResult, EventStore } from '../store/port.js';

/** Who sends a command, and the idempotency key of the event it records. */
export interface CommandEnvelope {
  /** The client-chosen id of the (first) event; a retry sends the same one. */
  eventId: string;
  actor: Actor;
  correlationId?: string;
  causationId?: string;
  /** When set, the command applies only if the stream is at exactly this revision. */
  expectedRevision?: bigint;
}

export interface HandledCommand extends AppendResult {
  /** The session's state just after the command's events. */
  state: SessionState;
}

export interface CommandHandlerOptions {
  store: EventStore;
  clock: () => Date;
  /** How often to decide again when another writer appended in between. Defaults to 5. */
  maxAttempts?: number;
}

const sessionIdOf = (command: SessionCommand) =>
  command.type === 'RecordFact' ? command.fact.data.sessionId : command.sessionId;

/**
 * Reads a session's stream, folds it, decides, and appends at the revision it decided on.
 * A retried command (its event id is already in the stream) is decided against the state
 * it first saw, so the store recognises the retry and answers the original result. When
 * another writer appends in between, it reads and decides again, unless the caller named
 * an expected revision.
 */
export function createCommandHandler({ store, clock, maxAttempts = 5 }: CommandHandlerOptions) {
  /**
   * `guard` sees the folded state before `decide` and may throw to refuse the command (the
   * HTTP layer checks there that the session exists and is the caller's): one read of the
   * stream serves the rule, the decision and the expected revision.
   */
  return async function handle(
    command: SessionCommand,
    envelope: CommandEnvelope,
    guard?: (state: SessionState) => void,
  ): Promise<HandledCommand> {
    const streamName = sessionStreamName(sessionIdOf(command));
    for (let attempt = 1; ; attempt++) {
      const history = await store.readStream(streamName);
      const retried = history.findIndex((event) => event.eventId === envelope.eventId);
      const state = fold(retried === -1 ? history : history.slice(0, retried));
      guard?.(state);
      if (retried === -1 && envelope.expectedRevision !== undefined && envelope.expectedRevision !== state.revision) {
        throw new WrongExpectedRevisionError(streamName, envelope.expectedRevision, state.revision < 0n ? null : state.revision);
      }
      const { eventId, actor, correlationId, causationId } = envelope;
      const recordedAt = clock().toISOString();
      const events: NewEvent[] = decide(command, state).map((event, index) => ({
        ...event,
        eventId: index === 0 ? eventId : derivedEventId(`${eventId}/${index}`),
        metadata: { actor, recordedAt, correlationId: correlationId ?? eventId, ...(causationId && { causationId }) },
      }));
      try {
        const result = await store.append(streamName, events, {
          expectedRevision: state.revision < 0n ? 'no_stream' : state.revision,
        });
        const upToIt = await store.readStream(streamName, { maxCount: Number(result.revision) + 1 });
        return { ...result, state: fold(upToIt) };
      } catch (error) {
        const raced = error instanceof WrongExpectedRevisionError && envelope.expectedRevision === undefined;
        if (!raced || attempt >= maxAttempts) throw error;
      }
    }
  };
}

export type CommandHandler = ReturnType<typeof createCommandHandler>;
