import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { TokenClaims, type Principal } from './claims.js';
import { ProblemError } from './problem-error.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** An onRequest hook: verifies the bearer token and sets `request.principal`. */
    authenticate: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    principal: Principal;
  }
}

/**
 * Bearer tokens: HS256 JWTs verified by @fastify/jwt, whose claims must then match one of
 * the ledger's roles. Runs before the body is read, so an anonymous caller learns nothing
 * about validation.
 */
export const authentication = fp(
  async (app: FastifyInstance, { secret }: { secret: string }) => {
    await app.register(fastifyJwt, { secret, verify: { algorithms: ['HS256'] } });
    // null until authenticate runs; every route that reads it authenticates first.
    app.decorateRequest('principal', null as never);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const payload = await request.jwtVerify<Record<string, unknown>>();
      const claims = TokenClaims.safeParse(payload);
      if (!claims.success) throw new ProblemError('unauthenticated', 'the token does not carry ledger claims');
      request.principal = claims.data;
    });
  },
  { name: 'authentication', fastify: '5.x', dependencies: ['problem-details'] },
);
