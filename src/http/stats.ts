import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Application } from '../application/application.js';
import { OutcomesJson, OutcomesQuery, ProblemJson } from '../contract/index.js';
import { authorize } from './authorization.js';
import { readSecurity } from './route-schemas.js';

/** Sessions by outcome, for auditors and the VM manager: the `session_outcomes` projection. */
export const statsRoutes = fp<{ application: Application }>(
  async (app: FastifyInstance, { application }) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/v1/stats/outcomes',
      {
        onRequest: app.authenticate,
        schema: {
          summary: 'Sessions by hour × provider × status × failure reason, with completion rates and top failure reasons (auditor, controller)',
          security: readSecurity,
          querystring: OutcomesQuery,
          response: { 200: OutcomesJson, 400: ProblemJson, 401: ProblemJson, 403: ProblemJson },
        },
      },
      async (request) => {
        authorize(request.principal, { kind: 'stats' });
        return application.outcomeStats(request.query);
      },
    );
  },
  { name: 'stats-routes', fastify: '5.x', encapsulate: true, dependencies: ['authentication', 'request-log'] },
);
