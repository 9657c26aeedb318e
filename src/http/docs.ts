import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { CONSOLE_COOKIE } from '../contract/index.js';

/** The OpenAPI document, generated from the routes' zod schemas, at /docs/json; a UI at /docs. */
export const apiDocs = fp(
  async (app: FastifyInstance) => {
    await app.register(fastifySwagger, {
      openapi: {
        info: {
          title: 'Session ledger',
          description: 'Event-sourced system of record for OAuth login sessions. Writers append facts; one fold decides the status.',
          version: 'v1',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
            // The console's login (POST /v1/console/login) sets it; the ledger takes it on reads only.
            console: { type: 'apiKey', in: 'cookie', name: CONSOLE_COOKIE },
          },
        },
      },
      transform: jsonSchemaTransform,
    });
    await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  },
  { name: 'api-docs', fastify: '5.x' },
);
