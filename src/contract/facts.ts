import { z } from 'zod';
import { ExternalRef, FailureReason, Provider, SessionId, Text, Timestamp } from './identifiers.js';

// The data of each fact a session's stream holds. They are part of the wire contract too:
// writers post them, and the raw stream answers them, so they live here, beside the routes'
// schemas, and the codec (`src/events/`) validates every append against them.
//
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
  reason: FailureReason,
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
