import type { RouteOptions } from 'fastify';
import { ProblemJson } from '../contract/index.js';

// What the routes' schemas share, for the OpenAPI document: the problem answers and the security
// alternatives. Each route lists the problems it can really give; the error handler sends them.

/** An error answer as the error handler sends it: an RFC 9457 problem, `application/problem+json`. */
export const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemJson } } });

/** What each problem status means wherever it is answered; a route says more with `problem` where it can. */
const meanings = {
  400: 'The request is not valid (`validation`): its path, query, headers or body; `issues` names each fault',
  401: 'No valid credentials (`unauthenticated`, with `WWW-Authenticate: Bearer`): none, malformed, not HS256, forged, expired or not yet valid, without `exp`, living longer than the ledger allows, or without ledger claims; `detail` names which',
  403: 'The credentials do not allow this (`forbidden`)',
  404: 'No such session, or none this token may see (`not-found`): the two answers are the same',
  406: "The request's `Accept` refuses `text/event-stream`, the only type this answers (`not-acceptable`)",
  409: 'The request conflicts with what is recorded (`conflict`, or `revision-mismatch` with the current revision); nothing was written',
  413: 'The body is larger than the ledger takes (`payload-too-large`)',
  415: 'The body is not `application/json` (`unsupported-media-type`)',
  429: 'This token already holds as many open watches as it may (`too-many-watches`)',
  503: 'The event store is not reachable, or its storage fails it (`unavailable`, with `Retry-After`; `fault` names a full disk, a read-only file, …); retrying is safe (a write with the same `eventId`)',
} as const;

export type ProblemStatus = keyof typeof meanings;

/** The problem answers of these statuses, each with its usual meaning. */
export function problems<const Statuses extends readonly ProblemStatus[]>(...statuses: Statuses) {
  return Object.fromEntries(statuses.map((status) => [status, problem(meanings[status])])) as Record<Statuses[number], ReturnType<typeof problem>>;
}

/**
 * What any route can answer besides its own (`buildApp`'s rate limit and load shedding),
 * unless its config exempts it (`rateLimit: false`, `loadShedding: false`).
 */
const sharedMeanings = {
  429: "Too many requests with this credential (without one, from this address) in the rate limit's window (`rate-limited`, with `Retry-After`)",
  503: 'The ledger is overloaded or shutting down (`unavailable`, with `Retry-After`); retrying, here or at another instance, is safe',
} as const;

/**
 * An onRoute hook: declares on every documented route the problems every route can answer,
 * beside those the route lists itself. A status the route declares already keeps its meaning,
 * and gains this one. Idempotent: fastify may call it again with the same schema (a GET's HEAD route).
 */
export function declareSharedProblems(route: RouteOptions) {
  const { schema, config } = route;
  if (schema === undefined || schema.hide === true) return;
  const responses = { ...(schema.response as Record<string, { description: string }> | undefined) };
  const exempt = { 429: config?.rateLimit === false, 503: config?.loadShedding === false };
  for (const [status, meaning] of Object.entries(sharedMeanings)) {
    if (exempt[Number(status) as keyof typeof exempt]) continue;
    const declared = responses[status];
    if (declared === undefined) responses[status] = problem(meaning);
    else if (!declared.description.includes(meaning)) responses[status] = { ...declared, description: `${declared.description}; or: ${meaning}` };
  }
  schema.response = responses;
}

/** A read of a session's row, v1 or legacy: `?after=` waits for the projector, bounded, and `?asOf=` reads the event store. */
export const sessionReadUnavailable = problem(
  'The read model has not passed `after` in time (`projection-lagging`), or the event store is not reachable for `asOf` (`unavailable`); retry after `Retry-After`',
);

/** A write takes a bearer token. */
export const writeSecurity: readonly Record<string, readonly string[]>[] = [{ bearer: [] }];
/** A read takes a bearer token, or the console's cookie (see `authentication`). */
export const readSecurity: readonly Record<string, readonly string[]>[] = [{ bearer: [] }, { console: [] }];
/** Anyone: the operator's probes, the console's logout. */
export const noSecurity: readonly Record<string, readonly string[]>[] = [];
