import { z } from 'zod';
import { ExternalRef, Provider, SessionId, Text, Timestamp } from './identifiers.js';

// Every object is strict: a key the schema does not name (an `accessToken` slipped into
// `data`, say) fails validation instead of being stored forever.

export const SessionStartedData = z.strictObject({
  sessionId: SessionId,
  userId: ExternalRef,
  provider: Provider,
  browserVmId: ExternalRef,
  expiresAt: Timestamp,
});

export const CredentialsStoredData = z.strictObject({
  sessionId: SessionId,
  provider: Provider,
  /** The id of the row where the controller keeps the credential; never the secret itself. */
  credentialRef: ExternalRef,
});

export const VmDestroyedData = z.strictObject({
  sessionId: SessionId,
  vmId: ExternalRef,
  reason: Text,
});

export const SessionFailedData = z.strictObject({
  sessionId: SessionId,
  reason: z.string().min(1).max(128),
  errorMessage: Text,
});

export const SessionCancelledData = z.strictObject({
  sessionId: SessionId,
  cancelledBy: ExternalRef,
});

export const SessionExpiredData = z.strictObject({
  sessionId: SessionId,
  expiresAt: Timestamp,
});

/** The current schema of each event's data, by event type. */
export const eventDataSchemas = {
  SessionStarted: SessionStartedData,
  CredentialsStored: CredentialsStoredData,
  VmDestroyed: VmDestroyedData,
  SessionFailed: SessionFailedData,
  SessionCancelled: SessionCancelledData,
  SessionExpired: SessionExpiredData,
} as const;

export type EventType = keyof typeof eventDataSchemas;
export const eventTypes = Object.keys(eventDataSchemas) as EventType[];

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventDataSchemas, type);
}

const variant = <T extends EventType>(type: T) =>
  z.strictObject({ type: z.literal(type), data: eventDataSchemas[type] });

/** One fact of a session's stream: its type and its data. */
export const LedgerEvent = z.discriminatedUnion('type', [
  variant('SessionStarted'),
  variant('CredentialsStored'),
  variant('VmDestroyed'),
  variant('SessionFailed'),
  variant('SessionCancelled'),
  variant('SessionExpired'),
]);
export type LedgerEvent = z.infer<typeof LedgerEvent>;
export type EventOfType<T extends EventType> = Extract<LedgerEvent, { type: T }>;
export type EventData<T extends EventType> = EventOfType<T>['data'];
