import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Application } from '../application/application.js';
import { AuditExportQuery, SealsDocument, VerifyReportJson } from '../contract/index.js';
import { authorize } from './authorization.js';
import { problems, readSecurity } from './route-schemas.js';

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
          operationId: 'exportLog',
          tags: ['audit'],
          summary: 'Every event as NDJSON, with position, revision and hash (auditor); from a position, one session, a time range',
          description:
            'The log in position order, one event a line: position, stream, revision, event id, type, data and metadata as stored, and hash. ' +
            'Streamed: the next page of the log is read as the client takes the last. `after` (exclusive), `sessionId`, `since` and `until` narrow it.',
          security: readSecurity,
          querystring: AuditExportQuery,
          response: {
            200: { description: 'One event a line', content: { 'application/x-ndjson': { schema: z.string() } } },
            ...problems(400, 401, 403, 503),
          },
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
          operationId: 'verifyLedger',
          tags: ['audit'],
          summary: 'Fold every stream afresh and compare with the read model, and check every hash chain (auditor)',
          description:
            "Each difference between a session's row and its stream folded afresh, each hash chain that does not hold, each event that cannot be decoded, " +
            'and each outcome bucket whose counts differ from a fresh fold.',
          security: readSecurity,
          response: { 200: VerifyReportJson.describe('What verify found'), ...problems(401, 403, 503) },
        },
      },
      async () => application.verify(),
    );

    routes.get(
      '/v1/audit/seals',
      {
        ...auditorOnly,
        schema: {
          operationId: 'getSeals',
          tags: ['audit'],
          summary: 'The seals of the log, oldest first, with the public key that signs them (auditor)',
          description: "Each seal signs the read model's checkpoint and the hash of every stream's head then; the public key checks them.",
          security: readSecurity,
          response: { 200: SealsDocument.describe('The seals, and the public key (null without a seal key)'), ...problems(401, 403) },
        },
      },
      async () => application.seals(),
    );
  },
  { name: 'audit-routes', fastify: '5.x', encapsulate: true, dependencies: ['authentication', 'request-log'] },
);
