import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { CONSOLE_COOKIE } from '../contract/index.js';

/** The document's groups of operations; each route names its one. */
const tags = [
  { name: 'sessions', description: 'Start a session, record its facts, read it (now, after a position, or as of then), its events and timeline; list them' },
  { name: 'watch', description: "A session's status live, every session's changes live (Server-Sent Events), and the tickets a web page opens a watch with" },
  { name: 'vms', description: "The VM manager's report of a destroyed browser VM" },
  { name: 'legacy', description: "The master controller's routes, mapped onto events, so its callers switch to the ledger unchanged" },
  { name: 'audit', description: 'For auditors: the log as NDJSON, the check of the read model and the hash chains, the seals' },
  { name: 'stats', description: 'Sessions by outcome: the `session_outcomes` projection' },
  { name: 'webhooks', description: 'The webhook subscriptions (LEDGER_WEBHOOKS_FILE) and how far their delivery is; never their secrets' },
  { name: 'console', description: "The auditor console's login, by an HttpOnly cookie the ledger takes on reads only" },
  { name: 'operations', description: 'Liveness, readiness and metrics, for the operator and the load balancer; no credentials' },
];

/** The OpenAPI document, generated from the routes' zod schemas, at /docs/json; a UI at /docs. */
export const apiDocs = fp(
  async (app: FastifyInstance) => {
    await app.register(fastifySwagger, {
      openapi: {
        // 3.1: its schemas are JSON Schema 2020-12, as zod writes them, and an answer without a
        // body (`z.null()`, the watch's 204) is documented as one without content.
        openapi: '3.1.0',
        info: {
          title: 'Session ledger',
          description: 'Event-sourced system of record for OAuth login sessions. Writers append facts; one fold decides the status.',
          version: 'v1',
          // package.json says UNLICENSED: the code is not licensed to anyone outside its owner.
          license: { name: 'UNLICENSED: proprietary, all rights reserved; no licence is granted' },
        },
        // Where `ledger serve` listens with the defaults (LEDGER_HOST, LEDGER_PORT); a deployment has its own.
        servers: [{ url: 'http://127.0.0.1:3000', description: 'A ledger on this machine, served with the default host and port' }],
        tags,
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A ledger token (HS256): its `role` and scope say what it may do' },
            // The console's login (POST /v1/console/login) sets it; the ledger takes it on reads only.
            console: { type: 'apiKey', in: 'cookie', name: CONSOLE_COOKIE, description: "The console's login cookie, taken on reads (GET) only" },
            watchTicket: {
              type: 'apiKey',
              in: 'query',
              name: 'ticket',
              description: "A single-use ticket from POST /v1/watch-tickets, for a web page's EventSource, which cannot send a bearer token",
            },
          },
        },
      },
      transform: jsonSchemaTransform,
    });
    await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  },
  { name: 'api-docs', fastify: '5.x' },
);
