import { createHash } from 'node:crypto';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { CONSOLE_COOKIE } from '../contract/index.js';
import { ProblemError } from './problem-error.js';

export interface RateLimitOptions {
  /** Requests per key and window; 0: no limit. */
  max: number;
  windowMs: number;
}

/** Keys are kept in memory: a digest, so that no token sits in the limiter's table. */
const digest = (credential: string) => createHash('sha256').update(credential).digest('base64url');

const consoleCookie = new RegExp(`(?:^|;)\\s*${CONSOLE_COOKIE}=([^;]*)`);

/**
 * Whose requests count together: the credential the request carries (its bearer header, or
 * the console's cookie), as sent, before it is verified; without one, the client's address.
 * Keyed before verification, so that a flood of requests with one bad token is limited like
 * any other; a flood of ever new tokens costs one HMAC each and is answered 401 (an address's
 * flood is for the network's edge to stop). A token cannot spend another token's allowance:
 * the key is the whole credential, not a claim inside it anyone could write.
 */
export function rateLimitKeyOf(request: FastifyRequest): string {
  const { authorization, cookie } = request.headers;
  if (authorization !== undefined) return `bearer:${digest(authorization)}`;
  const session = cookie === undefined ? undefined : consoleCookie.exec(cookie)?.[1];
  if (session) return `console:${digest(session)}`;
  return `address:${request.ip}`;
}

/**
 * The rate limit: `max` requests per key in each window of `windowMs`, then 429
 * `rate-limited` with `Retry-After` (the seconds left in the window) until the window ends.
 * It runs before any route's own hooks, authentication included, on every route whose config
 * does not say `rateLimit: false` (the operator's probes, which a load balancer calls from one
 * address all day).
 */
export const rateLimit = fp<RateLimitOptions>(
  async (app: FastifyInstance, { max, windowMs }) => {
    if (max === 0) return;
    // global: false, and one hook of our own: the plugin's would run after the routes' own
    // onRequest hooks, so after authentication, and a flood of bad tokens would never count.
    await app.register(fastifyRateLimit, { global: false, max, timeWindow: windowMs, keyGenerator: rateLimitKeyOf, cache: 10_000 });
    const limiter = app.createRateLimit();
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config.rateLimit === false) return;
      const state = await limiter(request);
      if (state.isAllowed || !state.isExceeded) return;
      const seconds = String(Math.max(1, state.ttlInSeconds));
      throw new ProblemError('rate-limited', `more than ${max} requests in ${windowMs / 1000} s from this credential; retry in ${seconds} s`, {}, { 'retry-after': seconds });
    });
  },
  { name: 'rate-limit', fastify: '5.x', dependencies: ['problem-details'] },
);
