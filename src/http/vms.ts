import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Application } from '../application/application.js';
import { ProblemJson, VmDestroyedBody, VmDestroyedJson, VmParams } from '../contract/index.js';
import { actorOf, authorize } from './authorization.js';
import { writeSecurity } from './route-schemas.js';

/** The VM manager reports a destroyed VM by its id; the ledger finds the session(s) it ran. */
export const vmRoutes = fp<{ application: Application }>(
  async (app: FastifyInstance, { application }) => {
    app.withTypeProvider<ZodTypeProvider>().post(
      '/v1/vms/:vmId/destroyed',
      {
        onRequest: app.authenticate,
        schema: {
          summary: 'Record that a browser VM was destroyed (controller)',
          security: writeSecurity,
          params: VmParams,
          body: VmDestroyedBody,
          response: { 200: VmDestroyedJson, 201: VmDestroyedJson, 400: ProblemJson, 401: ProblemJson, 403: ProblemJson, 404: ProblemJson, 503: ProblemJson },
        },
      },
      async (request, reply) => {
        request.logContext = { eventType: 'VmDestroyed' };
        authorize(request.principal, { kind: 'vmDestroyed' });
        const recorded = await application.recordVmDestroyed(request.params.vmId, request.body, actorOf(request.principal));
        if (recorded.length === 1) request.logContext.sessionId = recorded[0]!.sessionId;
        const sessions = recorded.map(({ sessionId, handled }) => ({
          sessionId,
          position: String(handled.position),
          revision: String(handled.revision),
          status: handled.state.status,
        }));
        const allRecordedBefore = recorded.every(({ handled }) => handled.alreadyRecorded);
        return reply.code(allRecordedBefore ? 200 : 201).send({ position: sessions.at(-1)!.position, sessions });
      },
    );
  },
  { name: 'vm-routes', fastify: '5.x', encapsulate: true, dependencies: ['authentication', 'request-log'] },
);
