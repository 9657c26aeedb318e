import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Histogram, type Registry } from 'prom-client';

export interface HttpMetricsOptions {
  /** The ledger's registry, which `/metrics` serves. */
  metrics: Registry;
}

/**
 * How long each request took, by method, route and status: what an operator's dashboards and
 * alerts are built on. The route is the pattern (`/v1/sessions/:id`), never the path, so
 * the label cannot grow with ids; a request no route matched counts as `unmatched`. A watch is
 * timed too: its duration is how long the page kept it open.
 */
export const httpMetrics = fp<HttpMetricsOptions>(
  async (app: FastifyInstance, { metrics }) => {
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route and status code, and how long each took to answer',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers: [metrics],
    });
    app.addHook('onResponse', async (request, reply) => {
      duration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  },
  { name: 'http-metrics', fastify: '5.x' },
);
