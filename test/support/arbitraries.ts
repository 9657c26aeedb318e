/**
 * fast-check arbitraries of one session's stream as the store gives it back: RecordedEvents
 * with valid data (per the zod schemas), revisions 0, 1, 2…, strictly increasing positions and
 * non-decreasing recordedAt, in any order of event types, with or without a SessionStarted.
 */
import fc from 'fast-check';
import {
  eventTypes,
  type EventData,
  type EventType,
  type RecordedEvent,
} from '../../src/events/index.js';
import { recorded } from './events.js';

// ---- values the schemas accept ----------------------------------------------------------------

export const sessionIdArb: fc.Arbitrary<string> = fc.oneof(
  fc.uuid(),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/),
);

export const providerArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('gemini', 'codex', 'claude-code'),
  fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,63}$/),
);

/** ExternalRef: 1 to 256 characters; kept short, length is not what these tests are about. */
export const refArb: fc.Arbitrary<string> = fc.string({ minLength: 1, maxLength: 24 });

/** Text: 1 to 2000 characters. */
export const textArb: fc.Arbitrary<string> = fc.string({ minLength: 1, maxLength: 60 });

/** SessionFailed's reason: 1 to 128 characters. */
export const reasonArb: fc.Arbitrary<string> = fc.string({ minLength: 1, maxLength: 32 });

const MIN_TIME = Date.parse('2020-01-01T00:00:00.000Z');
const MAX_TIME = Date.parse('2040-01-01T00:00:00.000Z');

export const timestampArb: fc.Arbitrary<string> = fc
  .integer({ min: MIN_TIME, max: MAX_TIME })
  .map((ms) => new Date(ms).toISOString());

/** Valid data of each event type, apart from the session id, which the stream supplies. */
export const dataArbs: { [T in EventType]: fc.Arbitrary<Omit<EventData<T>, 'sessionId'>> } = {
  SessionStarted: fc.record({ userId: refArb, provider: providerArb, browserVmId: refArb, expiresAt: timestampArb }),
  CredentialsStored: fc.record({ provider: providerArb, credentialRef: refArb }),
  VmDestroyed: fc.record({ vmId: refArb, reason: textArb }),
  SessionFailed: fc.record({ reason: reasonArb, errorMessage: textArb }),
  SessionCancelled: fc.record({ cancelledBy: refArb }),
  SessionExpired: fc.record({ expiresAt: timestampArb }),
};

// ---- one stream -----------------------------------------------------------------------------

/** One event to be: its fact without a session id, and its distance from the one before. */
interface Step {
  type: EventType;
  data: object;
  eventId: string;
  positionGap: bigint;
  msGap: number;
}

function stepArb(types: readonly EventType[]): fc.Arbitrary<Step> {
  return fc.oneof(
    ...types.map((type) =>
      fc.record({
        type: fc.constant(type),
        data: dataArbs[type] as fc.Arbitrary<object>,
        eventId: fc.uuid({ version: 4 }),
        // Other streams' events sit between ours in the store.
        positionGap: fc.bigInt({ min: 1n, max: 1000n }),
        // The server clock: events may share a millisecond, never go back.
        msGap: fc.integer({ min: 0, max: 10 * 60_000 }),
      }),
    ),
  );
}

export interface HistoryOptions {
  /** The event types drawn; all six by default. */
  types?: readonly EventType[];
  /** At least one event of this type, somewhere. */
  including?: EventType;
  /** Events drawn besides the optional opening SessionStarted and `including`; 20 by default. */
  maxLength?: number;
}

/**
 * The events of one session's stream. Most (5 in 6) open with a SessionStarted; any type,
 * SessionStarted included, may come anywhere after.
 */
export function historyArb({ types = eventTypes, including, maxLength = 20 }: HistoryOptions = {}): fc.Arbitrary<
  RecordedEvent[]
> {
  return fc
    .record({
      sessionId: sessionIdArb,
      opening: fc.option(stepArb(['SessionStarted']), { nil: undefined }),
      steps: fc.array(stepArb(types), { maxLength, size: 'max' }),
      insert: including === undefined ? fc.constant(undefined) : fc.tuple(stepArb([including]), fc.nat()),
      firstPosition: fc.bigInt({ min: 0n, max: 1n << 53n }),
      firstMs: fc.integer({ min: MIN_TIME, max: MAX_TIME }),
    })
    .map(({ sessionId, opening, steps, insert, firstPosition, firstMs }) => {
      const all = [...(opening ? [opening] : []), ...steps];
      if (insert) all.splice(insert[1] % (all.length + 1), 0, insert[0]);
      let position = firstPosition;
      let ms = firstMs;
      return all.map((step, index) => {
        if (index > 0) {
          position += step.positionGap;
          ms += step.msGap;
        }
        return recorded(step.type, { ...step.data, sessionId } as EventData<EventType>, {
          revision: BigInt(index),
          position,
          recordedAt: new Date(ms).toISOString(),
          eventId: step.eventId,
        });
      });
    });
}
