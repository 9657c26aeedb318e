// Child role `http-ceiling`: the most a fastify 5 route answers on this machine, the ceiling
// the ledger's routes are held against. A bare route: no hooks, no schema, no storage, the
// body parsed and an answer of about the size of a session's JSON. Prints its port.
import Fastify from 'fastify';

/** Shaped and sized like `GET /v1/sessions/:id`'s answer (about 350 bytes). */
const sessionLike = (sessionId: string) => ({
  sessionId,
  userId: 'user-bench',
  provider: 'gemini',
  browserVmId: 'vm-bench',
  status: 'completed',
  completedAt: '2026-12-05T15:00:00.000Z',
  errorMessage: null,
  createdAt: '2026-12-05T14:59:00.000Z',
  updatedAt: '2026-12-05T15:00:00.000Z',
  revision: '1',
  position: '12345',
  anomalies: [],
});

export async function httpCeiling(): Promise<void> {
  const app = Fastify({ logger: false });
  app.get<{ Params: { id: string } }>('/sessions/:id', async (request) => sessionLike(request.params.id));
  app.post<{ Params: { id: string }; Body: { eventId?: string } }>('/sessions/:id/events', async (request, reply) =>
    reply.code(201).send({ ...sessionLike(request.params.id), eventId: request.body.eventId ?? null }),
  );
  const closed = new Promise<void>((resolve) => process.once('SIGTERM', () => void app.close().then(() => resolve())));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the ceiling server has no TCP address');
  console.log(JSON.stringify(address.port));
  await closed;
}
