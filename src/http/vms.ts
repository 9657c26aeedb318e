import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { derivedEventId, SESSION_CATEGORY } from '../events/index.js';
import { authorize } from './authorization.js';
import { ProblemError } from './problems.js';
import { ProblemJson, VmDestroyedBody, VmDestroyedJson, VmParams } from './schemas.js';
import { readYourWrite } from './sessions.js';

/** The VM manager reports a destroyed VM by its id; the ledger finds the session(s) it ran. */
export async function vmRoutes(app: FastifyInstance) {
  const { ledger } = app;
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/vms/:vmId/destroyed',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'Record that a browser VM was destroyed (controller)',
        security: [{ bearer: [] }],
        params: VmParams,
        body: VmDestroyedBody,
        response: { 200: VmDestroyedJson, 201: VmDestroyedJson, 400: ProblemJson, 401: ProblemJson, 403: ProblemJson, 404: ProblemJson, 503: ProblemJson },
      },
    },
    async (request, reply) => {
      authorize(request.principal, { kind: 'vmDestroyed' });
      const { vmId } = request.params;
      const { reason, eventId } = request.body;
      request.logContext = { eventType: 'VmDestroyed' };
      // The VM's session is found through the read model, which must first have seen every
      // session started so far: a VM destroyed right after its start is the common case.
      await readYourWrite(app, await ledger.store.lastPosition({ category: SESSION_CATEGORY }));
      const sessionIds = ledger.readModel.sessionIdsOfVm(vmId);
      if (sessionIds.length === 0) throw new ProblemError('not-found', `no session ran in VM ${vmId}`);
      if (sessionIds.length === 1) request.logContext.sessionId = sessionIds[0];
      const sessions = [];
      let allRecordedBefore = true;
      for (const sessionId of sessionIds) {
        // One fact per session, with an id derived from the call (or from the VM when the call
        // names none): a retried call is recognised for every session it touched.
        const id = derivedEventId(`VmDestroyed/${eventId ?? vmId}/${sessionId}`);
        const result = await ledger.metrics.timeAppend('VmDestroyed', () =>
          ledger.commands(
            { type: 'RecordFact', fact: { type: 'VmDestroyed', data: { sessionId, vmId, reason } } },
            { eventId: id, actor: { role: request.principal.role, sub: request.principal.sub } },
          ),
        );
        allRecordedBefore &&= result.alreadyRecorded;
        sessions.push({ sessionId, position: String(result.position), revision: String(result.revision), status: result.state.status });
      }
      return reply.code(allRecordedBefore ? 200 : 201).send({ position: sessions.at(-1)!.position, sessions });
    },
  );
}
