import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Application } from '../application/application.js';
import { VmDestroyedBody, VmDestroyedJson, VmParams } from '../contract/index.js';
import { actorOf, authorize } from './authorization.js';
import { problem, problems, writeSecurity } from './route-schemas.js';

/** The VM manager reports a destroyed VM by its id; the ledger finds the session(s) it ran. */
export const vmRoutes = fp<{ application: Application }>(
  async (app: FastifyInstance, { application }) => {
    app.withTypeProvider<ZodTypeProvider>().post(
      '/v1/vms/:vmId/destroyed',
      {
        onRequest: app.authenticate,
        schema: {
          operationId: 'recordVmDestroyed',
          tags: ['vms'],
          summary: 'Record that a browser VM was destroyed (controller)',
          description:
            'Records `VmDestroyed` for each session that ran in the VM (normally one), and answers each with its position and status. ' +
            "Each session's event id is derived from the call's `eventId` (or the VM), so a retried call records nothing twice and answers 200.",
          security: writeSecurity,
          params: VmParams,
          body: VmDestroyedBody,
          response: {
            200: VmDestroyedJson.describe('Recorded before, by this call: the original positions'),
            201: VmDestroyedJson.describe('Recorded'),
            ...problems(400, 401, 403, 413, 415),
            404: problem('No session ran in that VM (`not-found`)'),
            409: problem('This VM was reported before, with the same `eventId` (or none), and another `reason` (`conflict`); nothing was written'),
            503: problem('The read model has not caught up with the sessions started (`projection-lagging`), or the event store is not reachable or cannot write (`unavailable`: a full disk, a read-only file); retry after `Retry-After`'),
          },
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
