// The append every store in the bench is given: a login starting, the first event of a new
// session's stream, as `POST /v1/sessions` appends it. Built before the clock starts.
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../src/events/index.js';

export interface Login {
  streamName: string;
  event: NewEvent & { type: 'SessionStarted' };
}

export function login(): Login {
  const sessionId = randomUUID();
  return {
    streamName: `authSession-${sessionId}`,
    event: {
      type: 'SessionStarted',
      eventId: randomUUID(),
      data: { sessionId, userId: 'user-1', provider: 'gemini', browserVmId: `vm-${sessionId}`, expiresAt: '2030-01-01T00:00:00.000Z' },
      metadata: { actor: { role: 'controller', sub: 'bench' }, recordedAt: new Date().toISOString() },
    },
  };
}
