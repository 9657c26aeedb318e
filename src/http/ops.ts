import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';
import type { Application } from '../application/application.js';
import { ProblemError } from './problem-error.js';

export interface OpsRoutesOptions {
  application: Application;
  /** What `/metrics` serves. */
  metrics: Registry;
}

/** Liveness, readiness and metrics: for the operator and the load balancer, unauthenticated. */
export const opsRoutes = fp<OpsRoutesOptions>(
  async (app: FastifyInstance, { application, metrics }) => {
    const hidden = { schema: { hide: true } };

    app.get('/healthz', hidden, async () => ({ status: 'ok' }));

    app.get('/readyz', hidden, async () => {
      const readiness = await application.readiness();
      if (readiness.ready) return { status: 'ready', ...readiness.state };
      throw new ProblemError('unavailable', readiness.reason, { ...readiness.state });
    });

    app.get('/metrics', hidden, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
  },
  { name: 'ops-routes', fastify: '5.x', encapsulate: true },
);
