import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Application } from '../application/application.js';
import { AuditExportQuery, ProblemJson, SealsDocument, VerifyReportJson } from '../contract/index.js';
import { authorize } from './authorization.js';
import { readSecurity } from './route-schemas.js';

const auditProblems = { 400: ProblemJson, 401: ProblemJson, 403: ProblemJson };

/** For auditors only: the log as NDJSON, the check of the read model and the chains, and the seals. */
export const auditRoutes = fp<{ application: Application }>(
  async (app: FastifyInstance, { application }) => {
    const routes = app.withTypeProvider<ZodTypeProvider>();
    const auditorOnly = { onRequest: [app.authenticate, async (request: { principal: Parameters<typeof authorize>[0] }) => authorize(request.principal, { kind: 'audit' })] };

    routes.get(
      '/v1/audit/export',
      {
        ...auditorOnly,
        schema: {
          summary: 'Every event as NDJSON, with position, revision and hash (auditor); from a position, one session, a time range',
          security: readSecurity,
          querystring: AuditExportQuery,
          response: { 200: z.string().describe('application/x-ndjson: one event a line'), ...auditProblems },
        },
      },
      async (request, reply) => {
        const { after, sessionId, since, until } = request.query;
        const pages = application.exportPages({
          after: after === undefined ? undefined : BigInt(after),
          sessionId,
          since: since === undefined ? undefined : Date.parse(since),
          until: until === undefined ? undefined : Date.parse(until),
        });
        // Streamed: the next page of the log is read as the client takes the last. fastify sends
        // a stream as it is; the schema only documents the text it makes.
        return reply.type('application/x-ndjson').send(Readable.from(pages, { highWaterMark: 1 }) as unknown as string);
      },
    );

    routes.get(
      '/v1/audit/verify',
      {
        ...auditorOnly,
        schema: {
          summary: 'Fold every stream afresh and compare with the read model, and check every hash chain (auditor)',
          security: readSecurity,
          response: { 200: VerifyReportJson, ...auditProblems },
        },
      },
      async () => application.verify(),
    );

    routes.get(
      '/v1/audit/seals',
      {
        ...auditorOnly,
        schema: {
          summary: 'The seals of the log, oldest first, with the public key that signs them (auditor)',
          security: readSecurity,
          response: { 200: SealsDocument, ...auditProblems },
        },
      },
      async () => application.seals(),
    );
  },
  { name: 'audit-routes', fastify: '5.x', encapsulate: true, dependencies: ['authentication', 'request-log'] },
);
