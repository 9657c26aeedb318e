import { fold, type SessionState } from '../../projections/index.js';
import type { EventType } from '../contract/index.js';
import { sessionDecider, sessionOfCommand, type SessionCommand } from '../decide/index.js';
import { currentSchemaVersion, ledgerUpcasters, sessionStreamName, type Actor, type EventMetadataInput, type RecordedEvent } from '../events/index.js';
import { WrongExpectedRevisionError } from '../store/errors.js';
import type { EventStore } from '../store/port.js';
import { activeTraceparent, inSpan, LedgerAttributes } from '../tracing/tracer.js';
import type { Span } from '@opentelemetry/api';
import type { SessionVisibility } from './caller.js';

/** Who sends a command, and the idempotency key of the event it records. */
export interface CommandEnvelope {
  /** The client-chosen id of the event; a retry sends the same one. */
  eventId: string;
  actor: Actor;
  correlationId?: string | undefined;
  causationId?: string | undefined;
  /** When set, the command applies only if the stream is at exactly this revision. */
  expectedRevision?: bigint | undefined;
}

export interface HandledCommand {
  /** The fact the command decided, if any (an expiry of a session that ended decides none). */
  type: EventType | null;
  /** The session's state just after the command's fact (as it was, when it decided none). */
  state: SessionState;
  /** The stream's revision after the command's fact. */
  revision: bigint;
  /** The position of the command's fact (of the stream's last event, when it decided none). */
  position: bigint;
  /** The fact was already in the stream: a retry, answered with the original's place. */
  alreadyRecorded: boolean;
  /** This call wrote the fact: it decided one, and it was not a retry. */
  recorded: boolean;
}

/**
 * `maySee` is asked about a session that exists before `decide`: one the caller may not see
 * is handled as a stream with no events, so the command meets exactly the refusals it would
 * for a session never started (not found; or, with an expected revision, a mismatch with none).
 * Authorization only; the domain's refusals are `decide`'s.
 */
export type CommandHandler = (command: SessionCommand, envelope: CommandEnvelope, maySee?: SessionVisibility) => Promise<HandledCommand>;

export interface CommandHandlerOptions {
  store: EventStore;
  clock: () => Date;
  /** How often to decide again when another writer appended in between. Defaults to 5. */
  maxAttempts?: number;
}

/**
 * Reads a session's stream, folds it, decides, and appends at the revision it decided on; the
 * state after the command is the state it read, evolved by the fact it appended. A retried
 * command (its event id is already in the stream) is decided against the state it first saw,
 * so the store recognises the retry and answers the original's place. When another writer
 * appends in between, it reads and decides again, unless the caller named an expected
 * revision.
 */
export function createCommandHandler({ store, clock, maxAttempts = 5 }: CommandHandlerOptions): CommandHandler {
  const { decide, evolve } = sessionDecider;

  // A span for the command, with its read, its decision and the store's append as children.
  return function handle(command, envelope, maySee) {
    const sessionId = sessionOfCommand(command);
    const { eventId, correlationId = eventId, causationId } = envelope;
    const attributes = {
      [LedgerAttributes.command]: command.type,
      [LedgerAttributes.sessionId]: sessionId,
      [LedgerAttributes.eventId]: eventId,
      [LedgerAttributes.correlationId]: correlationId,
      ...(causationId && { [LedgerAttributes.causationId]: causationId }),
    };
    return inSpan(`command ${command.type}`, { attributes }, (span) => decideAndAppend(command, envelope, maySee, span));
  };

  async function decideAndAppend(command: SessionCommand, envelope: CommandEnvelope, maySee: SessionVisibility | undefined, span: Span): Promise<HandledCommand> {
    const sessionId = sessionOfCommand(command);
    const streamName = sessionStreamName(sessionId);
    const { eventId, actor, correlationId, causationId } = envelope;
    for (let attempt = 1; ; attempt++) {
      const stored = await inSpan('read stream', { attributes: { [LedgerAttributes.stream]: streamName } }, async (read) => {
        const events = await store.readStream(streamName);
        read.setAttribute(LedgerAttributes.events, events.length);
        return events;
      });
      // Another's session is, to this caller, one with no events: `decide` refuses it as not found.
      const history = stored.length === 0 || maySee === undefined || maySee(sessionId, fold(stored)) ? stored : [];
      const retried = history.findIndex((event) => event.eventId === eventId);
      const state = fold(retried === -1 ? history : history.slice(0, retried));
      if (retried === -1 && envelope.expectedRevision !== undefined && envelope.expectedRevision !== state.revision) {
        throw new WrongExpectedRevisionError(streamName, envelope.expectedRevision, state.revision < 0n ? null : state.revision);
      }
      const [fact] = await inSpan('decide', {}, (decided) => {
        const facts = decide(command, state);
        decided.setAttribute(LedgerAttributes.eventType, facts[0]?.type ?? 'none');
        return facts;
      });
      // `decide` refuses every command but a start on a stream with no events, so a stream
      // that decided nothing has a last position.
      if (fact === undefined) {
        return { type: null, state, revision: state.revision, position: state.position ?? 0n, alreadyRecorded: false, recorded: false };
      }
      const metadata: EventMetadataInput = {
        actor,
        recordedAt: clock().toISOString(),
        correlationId: correlationId ?? eventId,
        ...(causationId && { causationId }),
        // The command's span: the projector's and the webhooks' spans for this event are its children.
        ...activeTraceparent(),
      };
      try {
        const result = await store.append(streamName, [{ ...fact, eventId, metadata }], {
          expectedRevision: state.revision < 0n ? 'no_stream' : state.revision,
        });
        let appended: RecordedEvent;
        if (retried !== -1) {
          // A retry: the fact as it was first recorded, in the stream already read.
          appended = history[retried]!;
        } else if (result.alreadyRecorded) {
          // A retry whose first attempt landed between the read and this append.
          [appended] = (await store.readStream(streamName, { fromRevision: result.revision, maxCount: 1 })) as [RecordedEvent];
        } else {
          const schemaVersion = currentSchemaVersion(ledgerUpcasters, fact.type);
          appended = { ...fact, eventId, streamName, revision: result.revision, position: result.position, metadata: { ...metadata, schemaVersion }, hash: result.hash };
        }
        span.setAttributes({ [LedgerAttributes.eventType]: fact.type, [LedgerAttributes.revision]: String(result.revision), [LedgerAttributes.alreadyRecorded]: result.alreadyRecorded });
        return { ...result, type: fact.type, state: evolve(state, appended), recorded: !result.alreadyRecorded };
      } catch (error) {
        const raced = error instanceof WrongExpectedRevisionError && envelope.expectedRevision === undefined;
        if (!raced || attempt >= maxAttempts) throw error;
        span.addEvent('another writer appended first; deciding again', { attempt });
      }
    }
  }
}

