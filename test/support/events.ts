/**
 * Builders of events for tests: plain facts (`type` + `data`) with valid default data, the
 * NewEvent a writer hands to the store, and the RecordedEvent the store gives back.
 */
import { randomUUID } from 'node:crypto';
import {
  currentSchemaVersion,
  ledgerUpcasters,
  sessionStreamName,
  type EventData,
  type EventMetadataInput,
  type EventOfType,
  type EventType,
  type LedgerEvent,
  type NewEvent,
  type RecordedEvent,
} from '../../src/events/index.js';

/** A time for tests that do not care about time. */
export const T0 = '2030-01-01T00:00:00.000Z';

/** Valid data for each event type, apart from the session id. */
export const defaultData: { [T in EventType]: Omit<EventData<T>, 'sessionId'> } = {
  SessionStarted: { userId: 'user-1', provider: 'gemini', browserVmId: 'vm-1', expiresAt: '2030-01-01T00:15:00.000Z' },
  CredentialsStored: { provider: 'gemini', credentialRef: 'cred-1' },
  VmDestroyed: { vmId: 'vm-1', reason: 'clean-up after the OAuth flow' },
  SessionFailed: { reason: 'oauthError', errorMessage: 'The provider refused the authorization' },
  SessionCancelled: { cancelledBy: 'user-1' },
  SessionExpired: { expiresAt: '2030-01-01T00:15:00.000Z' },
};

/** A fact of a session: default data, with `overrides` on top. */
export function fact<T extends EventType>(
  type: T,
  sessionId: string,
  overrides: Partial<EventData<T>> = {},
): EventOfType<T> {
  // TypeScript cannot correlate `type` with its data through a generic; the types above do.
  return { type, data: { ...defaultData[type], sessionId, ...overrides } } as unknown as EventOfType<T>;
}

// ---- NewEvent: what a writer appends ------------------------------------------------------

export interface EnvelopeOverrides {
  eventId?: string;
  metadata?: Partial<EventMetadataInput>;
}

/** Wraps a fact as a writer would: a fresh event id, a controller as the actor, now. */
export function newEvent<E extends LedgerEvent>(event: E, envelope: EnvelopeOverrides = {}): NewEvent<E> {
  return {
    ...event,
    eventId: envelope.eventId ?? randomUUID(),
    metadata: {
      actor: { role: 'controller', sub: 'test' },
      recordedAt: new Date().toISOString(),
      ...envelope.metadata,
    },
  };
}

type NewBuilder<T extends EventType> = (
  sessionId: string,
  overrides?: Partial<EventData<T>>,
  envelope?: EnvelopeOverrides,
) => NewEvent<EventOfType<T>>;

const newBuilder =
  <T extends EventType>(type: T): NewBuilder<T> =>
  (sessionId, overrides, envelope) =>
    newEvent(fact(type, sessionId, overrides), envelope);

export const newSessionStarted = newBuilder('SessionStarted');
export const newCredentialsStored = newBuilder('CredentialsStored');
export const newVmDestroyed = newBuilder('VmDestroyed');
export const newSessionFailed = newBuilder('SessionFailed');
export const newSessionCancelled = newBuilder('SessionCancelled');
export const newSessionExpired = newBuilder('SessionExpired');

// ---- RecordedEvent: what the store gives back -----------------------------------------------

export interface Place {
  revision: bigint;
  position: bigint;
  recordedAt: string;
  eventId?: string;
}

/** A fact as the store would give it back, at the given place in its stream and the store. */
export function recorded<T extends EventType>(
  type: T,
  data: EventData<T>,
  { revision, position, recordedAt, eventId = randomUUID() }: Place,
): RecordedEvent<EventOfType<T>> {
  return {
    type,
    data,
    eventId,
    streamName: sessionStreamName(data.sessionId),
    revision,
    position,
    metadata: {
      actor: { role: 'controller', sub: 'test' },
      recordedAt,
      schemaVersion: currentSchemaVersion(ledgerUpcasters, type),
    },
    hash: null,
  } as RecordedEvent<EventOfType<T>>;
}

/** The `recordedAt` of the `index`-th event of a `history`: one second apart from T0. */
export function timeOf(index: number): string {
  return new Date(Date.parse(T0) + index * 1000).toISOString();
}

/**
 * Facts as one stream gives them back, in order: revisions 0, 1, 2…, positions 100, 110,
 * 120… (a store interleaves other streams), and recordedAt `timeOf(revision)`.
 */
export function history(...facts: readonly LedgerEvent[]): RecordedEvent[] {
  return facts.map((event, index) =>
    recorded(event.type, event.data, {
      revision: BigInt(index),
      position: 100n + 10n * BigInt(index),
      recordedAt: timeOf(index),
    }),
  );
}
