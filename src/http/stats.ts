import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Application } from '../application/application.js';
import { OutcomesJson, OutcomesQuery } from '../contract/index.js';
import { authorize } from './authorization.js';
import { problems, readSecurity } from './route-schemas.js';

/** Sessions by outcome, for auditors and the VM manager: the `session_outcomes` projection. */
export const statsRoutes = fp<{ application: Application }>(
  async (app: FastifyInstance, { application }) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/v1/stats/outcomes',
      {
        onRequest: app.authenticate,
        schema: {
          operationId: 'getOutcomeStats',
          tags: ['stats'],
          summary: 'Sessions by hour × provider × status × failure reason, with completion rates and top failure reasons (auditor, controller)',
          description:
            'Sessions by the hour they were created, provider, status and failure reason; each provider\'s counts and completion rate (completed over sessions with an outcome); ' +
            'the top failure reasons. `from` and `to` (ISO) default to the last seven days; `provider` narrows it.',
          security: readSecurity,
          querystring: OutcomesQuery,
          response: { 200: OutcomesJson.describe('The outcomes'), ...problems(400, 401, 403) },
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
