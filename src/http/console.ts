import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CONSOLE_COOKIE, ConsoleLoginJson } from '../contract/index.js';
import { authorize } from './authorization.js';
import type { Principal } from './claims.js';
import type { TokenSigner } from './tokens.js';
import { noSecurity, problems, readSecurity, writeSecurity } from './route-schemas.js';
import { CONSOLE_DIR, servePages } from './web-pages.js';

/** The longest a console login lasts: a working day. A shorter-lived token shortens it. */
export const CONSOLE_LOGIN_MS = 8 * 3_600_000;

export interface ConsoleOptions {
  signToken: TokenSigner;
  clock: () => Date;
  /** The built console; defaults to `dist/console`. */
  root?: string | undefined;
}

/**
 * The auditor console at `/console/`, and its login: a page posts an auditor's or a
 * controller's bearer token once, and gets an HttpOnly, SameSite=Strict cookie holding a
 * ledger token of its own, which the ledger takes on reads only (see `authentication`).
 */
export const consoleRoutes = fp<ConsoleOptions>(
  async (app: FastifyInstance, { signToken, clock, root = CONSOLE_DIR }) => {
    const routes = app.withTypeProvider<ZodTypeProvider>();
    const loginOf = (principal: Principal, expiresAt: Date): ConsoleLoginJson => {
      authorize(principal, { kind: 'console' });
      return { role: principal.role as ConsoleLoginJson['role'], sub: principal.sub, expiresAt: expiresAt.toISOString() };
    };

    routes.post(
      '/v1/console/login',
      {
        onRequest: app.authenticate,
        schema: {
          operationId: 'consoleLogin',
          tags: ['console'],
          summary: "The console's login: an auditor's or controller's bearer token, exchanged for an HttpOnly cookie",
          description:
            'Sets an HttpOnly, SameSite=Strict cookie holding a ledger token of its own, for eight hours at most and never longer than the token; ' +
            'the ledger takes it instead of a bearer token on reads (GET) only. Takes no body.',
          security: writeSecurity,
          response: { 201: ConsoleLoginJson.describe('Logged in: who, and until when'), ...problems(400, 401, 403, 413, 415) },
        },
      },
      async (request, reply) => {
        const { principal } = request;
        const longest = clock().getTime() + CONSOLE_LOGIN_MS;
        const expiresAt = new Date(Math.min(longest, request.tokenExpiresAt.getTime()));
        const login = loginOf(principal, expiresAt);
        const cookieToken = signToken({ role: login.role, sub: login.sub }, expiresAt);
        return reply
          .setCookie(CONSOLE_COOKIE, cookieToken, { path: '/', httpOnly: true, sameSite: 'strict', secure: 'auto', expires: expiresAt })
          .code(201)
          .send(login);
      },
    );

    routes.get(
      '/v1/console/login',
      {
        onRequest: app.authenticate,
        schema: {
          operationId: 'getConsoleLogin',
          tags: ['console'],
          summary: "Who the console's cookie speaks for, and until when",
          description: 'The role and subject of the login (or of a bearer token), and when it expires.',
          security: readSecurity,
          response: { 200: ConsoleLoginJson.describe('Who, and until when'), ...problems(401, 403) },
        },
      },
      async (request) => loginOf(request.principal, request.tokenExpiresAt),
    );

    routes.delete(
      '/v1/console/login',
      {
        schema: {
          operationId: 'consoleLogout',
          tags: ['console'],
          summary: "Logs the console out: clears its cookie",
          description: "Clears the console's cookie, whoever asks: it holds nothing to protect once cleared. Takes no body.",
          security: noSecurity,
          response: { 204: z.null().describe('Logged out'), ...problems(400, 413, 415) },
        },
      },
      async (_request, reply) => reply.clearCookie(CONSOLE_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: 'auto' }).code(204).send(null),
    );

    await servePages(app, { root, prefix: '/console', missing: 'the console is not built here: run `npm run build`' });
  },
  { name: 'console-routes', fastify: '5.x', encapsulate: true, dependencies: ['authentication', 'request-log'] },
);
