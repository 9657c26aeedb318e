import type { FastifyInstance } from 'fastify';
import { SESSION_CATEGORY } from '../events/index.js';
import { StoreUnavailableError } from '../store/errors.js';
import { ProblemError } from './problems.js';

/** Liveness, readiness and metrics: for the operator and the load balancer, unauthenticated. */
export async function opsRoutes(app: FastifyInstance) {
  const { ledger } = app;
  const hidden = { schema: { hide: true } };

  app.get('/healthz', hidden, async () => ({ status: 'ok' }));

  app.get('/readyz', hidden, async () => {
    const { projector, store } = ledger;
    let head: bigint;
    try {
      head = await store.lastPosition({ category: SESSION_CATEGORY });
    } catch (error) {
      // An adapter that already says "not reachable" keeps the reason in its cause.
      const reason = error instanceof StoreUnavailableError ? error.cause : error;
      throw new ProblemError('unavailable', `the event store is not reachable: ${(reason as Error).message}`);
    }
    const state = {
      store: 'reachable',
      projector: {
        running: projector.running,
        caughtUp: projector.caughtUp,
        position: String(projector.position),
        lag: String(head > projector.position ? head - projector.position : 0n),
      },
    };
    if (projector.failure) throw new ProblemError('unavailable', `the projector stopped: ${projector.failure.message}`, state);
    if (!projector.running) throw new ProblemError('unavailable', 'the projector is not running', state);
    if (!projector.caughtUp) throw new ProblemError('unavailable', 'the projector is still catching up', state);
    return { status: 'ready', ...state };
  });

  app.get('/metrics', hidden, async (_request, reply) => {
    const { registry } = ledger.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
