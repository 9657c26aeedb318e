import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { activeTraceFields } from '../tracing/tracer.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the request log line names, where the route knows it. */
    logContext: { sessionId?: string | undefined; eventType?: string | undefined };
    /** The request's trace, when it is traced: its line names it. */
    traceFields: { trace_id: string; span_id: string } | undefined;
  }
}

/**
 * One log line per request, naming the session and event type where the route knows them.
 * Headers and bodies are never logged: they carry bearer tokens and, by mistake, secrets.
 */
export const requestLog = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('logContext', null as never);
    app.decorateRequest('traceFields', undefined);
    app.addHook('onRequest', async (request) => {
      request.logContext = {};
      // The request's span is active here, not when it has been answered.
      request.traceFields = activeTraceFields();
    });
    app.addHook('onResponse', async (request, reply) => {
      request.log.info(
        {
          method: request.method,
          route: request.routeOptions.url ?? null,
          path: request.url.split('?')[0],
          statusCode: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          ...request.logContext,
          ...(request.principal && { role: request.principal.role }),
          ...request.traceFields,
        },
        'request',
      );
    });
  },
  { name: 'request-log', fastify: '5.x' },
);
