import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { WebhooksJson } from '../contract/index.js';
import type { Webhooks } from '../reactions/webhooks.js';
import { authorize } from './authorization.js';
import { problems, readSecurity } from './route-schemas.js';

/** The webhook subscriptions, for the operator and the auditor: what each wants and how far it is; no secret. */
export const webhookRoutes = fp<{ webhooks: Webhooks }>(
  async (app: FastifyInstance, { webhooks }) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/v1/webhooks',
      {
        onRequest: app.authenticate,
        schema: {
          operationId: 'listWebhooks',
          tags: ['webhooks'],
          summary: 'The webhook subscriptions, with their checkpoint, lag and dead letters (controller, auditor)',
          description:
            'Each subscription of LEDGER_WEBHOOKS_FILE: its id, URL and filters, the last position its consumer has passed, ' +
            "how far that is behind the store's last session event, and how many messages failed every attempt. Secrets are never shown.",
          security: readSecurity,
          response: { 200: WebhooksJson.describe('The subscriptions'), ...problems(401, 403) },
        },
      },
      async (request) => {
        authorize(request.principal, { kind: 'webhooks' });
        const list = await webhooks.list();
        return { webhooks: list.map((webhook) => ({ ...webhook, checkpoint: String(webhook.checkpoint), lag: String(webhook.lag) })) };
      },
    );
  },
  { name: 'webhook-routes', fastify: '5.x', encapsulate: true, dependencies: ['authentication', 'request-log'] },
);
