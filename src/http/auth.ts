import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { CONSOLE_COOKIE } from '../contract/index.js';
import type { Principal } from './claims.js';
import { ProblemError } from './problem-error.js';
import { createTokenVerifier } from './token-verifier.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** An onRequest hook: verifies the bearer token (or, on a read, the console's cookie) and sets `request.principal`. */
    authenticate: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    principal: Principal;
    /** When the token the request was let in with expires. */
    tokenExpiresAt: Date;
  }
}

/** The methods that change nothing: the only ones the console's cookie is taken on. */
const READS = new Set(['GET', 'HEAD']);

const BEARER = /^Bearer +(\S+) *$/i;

export interface AuthenticationOptions {
  secret: string;
  /** The longest a token may live (LEDGER_TOKEN_MAX_TTL). */
  maxTtlSeconds: number;
}

/**
 * Bearer tokens: HS256 JWTs that must expire, within the cap, and carry one of the ledger's
 * roles (`createTokenVerifier`); every fault is a 401 that names it. Runs before the body is
 * read, so an anonymous caller learns nothing about validation.
 *
 * A request with no `Authorization` header may carry the console's cookie instead (a ledger
 * token of its own, HttpOnly, SameSite=Strict), on reads only: a browser sends cookies with
 * whatever a page asks, so a cookie must never be what lets a write through.
 */
export const authentication = fp(
  async (app: FastifyInstance, { secret, maxTtlSeconds }: AuthenticationOptions) => {
    await app.register(fastifyCookie);
    const verify = createTokenVerifier({ secret, maxTtlSeconds });
    // null until authenticate runs; every route that reads them authenticates first.
    app.decorateRequest('principal', null as never);
    app.decorateRequest('tokenExpiresAt', null as never);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const { authorization } = request.headers;
      let token: string;
      if (authorization === undefined) {
        const cookie = request.cookies[CONSOLE_COOKIE];
        if (cookie === undefined) throw new ProblemError('unauthenticated', 'a bearer token is required');
        if (!READS.has(request.method)) throw new ProblemError('unauthenticated', "the console's cookie is taken on reads only; this takes a bearer token");
        token = cookie;
      } else {
        const bearer = BEARER.exec(authorization);
        if (!bearer) throw new ProblemError('unauthenticated', 'the Authorization header is not `Bearer <token>`');
        token = bearer[1]!;
      }
      const { principal, expiresAt } = verify(token);
      request.principal = principal;
      request.tokenExpiresAt = expiresAt;
    });
  },
  { name: 'authentication', fastify: '5.x', dependencies: ['problem-details'] },
);
