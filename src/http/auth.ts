import fastifyCookie from '@fastify/cookie';
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { CONSOLE_COOKIE } from '../contract/index.js';
import { TokenClaims, type Principal } from './claims.js';
import { ProblemError } from './problem-error.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** An onRequest hook: verifies the bearer token (or, on a read, the console's cookie) and sets `request.principal`. */
    authenticate: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    principal: Principal;
  }
}

/** The methods that change nothing: the only ones the console's cookie is taken on. */
const READS = new Set(['GET', 'HEAD']);

/**
 * Bearer tokens: HS256 JWTs verified by @fastify/jwt, whose claims must then match one of
 * the ledger's roles. Runs before the body is read, so an anonymous caller learns nothing
 * about validation.
 *
 * A request with no `Authorization` header may carry the console's cookie instead (a ledger
 * token of its own, HttpOnly, SameSite=Strict), on reads only: a browser sends cookies with
 * whatever a page asks, so a cookie must never be what lets a write through.
 */
export const authentication = fp(
  async (app: FastifyInstance, { secret }: { secret: string }) => {
    await app.register(fastifyCookie);
    await app.register(fastifyJwt, { secret, verify: { algorithms: ['HS256'] }, cookie: { cookieName: CONSOLE_COOKIE, signed: false } });
    // null until authenticate runs; every route that reads it authenticates first.
    app.decorateRequest('principal', null as never);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      if (request.headers.authorization === undefined) {
        if (request.cookies[CONSOLE_COOKIE] === undefined) throw new ProblemError('unauthenticated', 'a bearer token is required');
        if (!READS.has(request.method)) throw new ProblemError('unauthenticated', "the console's cookie is taken on reads only; this takes a bearer token");
      }
      const payload = await request.jwtVerify<Record<string, unknown>>();
      const claims = TokenClaims.safeParse(payload);
      if (!claims.success) throw new ProblemError('unauthenticated', 'the token does not carry ledger claims');
      request.principal = claims.data;
    });
  },
  { name: 'authentication', fastify: '5.x', dependencies: ['problem-details'] },
);
