import type { FastifyOtelInstrumentation } from '@fastify/otel';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * A span per request, by `@fastify/otel`, when tracing is on. It ends a request's span as the
 * answer is sent; a request its client leaves first (a watch whose page closed) is never
 * sent an answer, so its span is ended here when the connection closes, marked as left, and
 * exported like the others.
 */
export const requestSpans = fp(
  async (app: FastifyInstance, { instrumentation }: { instrumentation: FastifyOtelInstrumentation }) => {
    await app.register(instrumentation.plugin());
    app.addHook('onRequest', async (request, reply) => {
      const { span } = request.opentelemetry();
      if (!span) return;
      reply.raw.once('close', () => {
        if (reply.raw.writableFinished) return;
        span.setAttribute('ledger.request.left_by_client', true);
        span.end();
      });
    });
  },
  { name: 'request-spans', fastify: '5.x' },
);
