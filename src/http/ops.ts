import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Registry } from 'prom-client';
import { z } from 'zod';
import type { Application } from '../application/application.js';
import { Decimal } from '../contract/index.js';
import { ProblemError } from './problem-error.js';
import { noSecurity, problem } from './route-schemas.js';

export interface OpsRoutesOptions {
  application: Application;
  /** What `/metrics` serves: the ledger's metrics, and the process's (`processMetrics`). */
  metrics: Registry;
  processMetrics: Registry;
}

const HealthJson = z.object({ status: z.literal('ok') });

/** Where readiness found the store and the projector; a 503's problem carries the same members when it got that far. */
const ReadyJson = z.object({
  status: z.literal('ready'),
  store: z.literal('reachable'),
  projector: z.object({ running: z.boolean(), caughtUp: z.boolean(), position: Decimal, lag: Decimal }),
});

/** Liveness, readiness and metrics: for the operator and the load balancer, unauthenticated. */
export const opsRoutes = fp<OpsRoutesOptions>(
  async (app: FastifyInstance, { application, metrics, processMetrics }) => {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get(
      '/healthz',
      {
        // A liveness probe that failed under load would have a healthy, busy process restarted.
        config: { rateLimit: false, loadShedding: false },
        schema: {
          operationId: 'getHealth',
          tags: ['operations'],
          summary: 'Liveness: the process answers',
          description:
            'Always 200 while the process serves requests, under load and while it shuts down too: neither the rate limit nor load shedding applies. ' +
            'Says nothing of the store or the projector (that is `/readyz`).',
          security: noSecurity,
          response: { 200: HealthJson.describe('Alive') },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    routes.get(
      '/readyz',
      {
        // A load balancer asks from one address, as often as it likes; under load, its 503 is the point.
        config: { rateLimit: false },
        schema: {
          operationId: 'getReadiness',
          tags: ['operations'],
          summary: 'Readiness: the store answers and the projector follows it, caught up',
          description: "Whether this instance should take requests, for a load balancer: 200 with the projector's position and lag, or 503 saying why not.",
          security: noSecurity,
          response: {
            200: ReadyJson.describe('Ready'),
            503: problem(
              'Not ready (`unavailable`): the event store is not reachable or cannot write, or the projector cannot write the read model, has stopped, ' +
                'is not running or is catching up; a storage fault is named in `fault` (`of`, `kind`, `since`)',
            ),
          },
        },
      },
      async () => {
        const readiness = await application.readiness();
        if (readiness.ready) return { status: 'ready' as const, ...readiness.state };
        throw new ProblemError('unavailable', readiness.reason, { ...readiness.state, ...(readiness.fault && { fault: readiness.fault }) });
      },
    );

    routes.get(
      '/metrics',
      {
        // Scraped under load too, when they matter most.
        config: { rateLimit: false, loadShedding: false },
        schema: {
          operationId: 'getMetrics',
          tags: ['operations'],
          summary: 'Prometheus metrics',
          description:
            "The ledger's metrics in the Prometheus text format: among them appends and their durations, the projector's position and lag, " +
            "the read model's sessions by status, the open watches, request durations by route and status, and the process's CPU, memory, event-loop lag and GC.",
          security: noSecurity,
          // The registry's own content type, which the answer is sent with.
          response: { 200: { description: 'The metrics', content: { [metrics.contentType]: { schema: z.string() } } } },
        },
      },
      // Merged at each scrape: the ledger's registry gains and loses metrics as plugins open and close.
      async (_request, reply) => reply.type(metrics.contentType).send(await Registry.merge([processMetrics, metrics]).metrics()),
    );
  },
  { name: 'ops-routes', fastify: '5.x', encapsulate: true },
);
