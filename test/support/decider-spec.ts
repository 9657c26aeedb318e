/**
 * Given/when/then for the session, in the style of Emmett's DeciderSpecification: given the
 * facts of a stream, when a command is decided (or one more event is applied), then exactly
 * these events are recorded (or this refusal is thrown, or this state is reached).
 *
 *   given(start).when(cancel).then(t, [cancelled]);
 *   given().when(cancel).thenRefuses(t, SessionNotFoundError, { sessionId });
 *   given(start).whenApplied(credentials).thenChanges(t, { status: 'completed', … });
 */
import type { Test } from 'tap';
import type { AnomalyKind, SessionState } from '../../projections/index.js';
import { DomainError, sessionDecider, type Decision, type SessionCommand } from '../../src/decide/index.js';
import type { LedgerEvent, RecordedEvent } from '../../src/events/index.js';
import { history } from './events.js';

/** A refusal's class; `abstract` so that DomainError itself fits. */
export type ErrorClass<E extends DomainError> = abstract new (...args: never[]) => E;

/** Where and when the applied event landed: what the expected changes are made of. */
export interface Applied {
  readonly at: string;
  readonly position: bigint;
}

/** Folds `facts` as one stream gives them back, so every test sees the same revisions and times. */
export function given(...facts: LedgerEvent[]) {
  const state = history(...facts).reduce(sessionDecider.evolve, sessionDecider.initialState);
  return {
    /** The folded state, for the tests that look at it directly. */
    state,

    /** Decides `command` once; a refusal is kept, not thrown, for `thenRefuses` to look at. */
    when(command: SessionCommand) {
      let events: Decision | undefined;
      let error: unknown;
      try {
        events = sessionDecider.decide(command, state);
      } catch (thrown) {
        error = thrown;
      }
      return {
        /** The command is accepted and records exactly `expected`, `[]` included. */
        then(t: Test, expected: Decision): void {
          t.error(error, 'the command is accepted');
          t.strictSame(events, expected, 'it records exactly the expected events');
        },

        /** The command is refused by the rules of a session, with these fields, and records nothing. */
        thenRefuses<E extends DomainError>(t: Test, errorClass: ErrorClass<E>, match: Partial<E>): void {
          t.type(error, errorClass, `the command is refused with a ${errorClass.name}`);
          t.type(error, DomainError, 'a refusal of the domain');
          t.match(error, match, 'carrying the expected fields');
          t.equal(events, undefined, 'it records nothing');
        },
      };
    },

    /** Applies one more event, next in the same stream, as the projector would. */
    whenApplied(event: LedgerEvent) {
      const applied = history(...facts, event).at(-1) as RecordedEvent;
      const after = sessionDecider.evolve(state, applied);
      const at = applied.metadata.recordedAt;
      return {
        before: state,
        after,
        at,
        position: applied.position,

        /** The whole state is the one before, plus exactly `changes` and the new `anomalies`. */
        thenChanges(t: Test, changes: Partial<SessionState>, anomalies: readonly AnomalyKind[] = []): void {
          t.strictSame(after, expected(state, applied, changes, anomalies));
        },
      };
    },
  };
}

/**
 * `before` with what every event sets (updatedAt, revision, position), the given changes and
 * the given new anomalies, noted at the event's position and time: a whole state to compare,
 * so an event that touches anything else fails.
 */
function expected(
  before: SessionState,
  event: RecordedEvent,
  changes: Partial<SessionState>,
  anomalies: readonly AnomalyKind[] = [],
): SessionState {
  const at = event.metadata.recordedAt;
  return {
    ...before,
    ...changes,
    updatedAt: at,
    revision: event.revision,
    position: event.position,
    anomalies: [...before.anomalies, ...anomalies.map((kind) => ({ kind, position: event.position, at }))],
  };
}
