/**
 * Steps the deadline-sweeper tests take on any store: sessions started with a deadline, an
 * agent's credentials, the expiries a stream holds.
 */
import { randomUUID } from 'node:crypto';
import type { CommandHandler } from '../../src/application/command-handler.js';
import { sessionStreamName, type Actor, type RecordedEvent } from '../../src/events/index.js';
import type { EventStore } from '../../src/store/port.js';

export const controller: Actor = { role: 'controller', sub: 'vm-manager' };
export const T0 = Date.parse('2030-01-01T12:00:00.000Z');
/** The time `minutes` after T0, as the writers write it. */
export const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

export const startSession = (handle: CommandHandler, sessionId: string, expiresAt: string) =>
  handle(
    { type: 'StartSession', data: { sessionId, userId: 'user-1', provider: 'gemini', browserVmId: `vm-${sessionId}`, expiresAt } },
    { eventId: randomUUID(), actor: controller },
  );

export const storeCredentials = (handle: CommandHandler, sessionId: string) =>
  handle(
    { type: 'RecordFact', data: { fact: { type: 'CredentialsStored', data: { sessionId, provider: 'gemini', credentialRef: 'cred-1' } } } },
    { eventId: randomUUID(), actor: { role: 'agent', sub: `agent:${sessionId}` } },
  );

export const expiriesOf = async (store: EventStore, sessionId: string): Promise<RecordedEvent[]> =>
  (await store.readStream(sessionStreamName(sessionId))).filter((event) => event.type === 'SessionExpired');
