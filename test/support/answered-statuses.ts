import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { declaredStatuses, documentPath, operationKey, type OpenApiDocument } from './openapi.js';

// The statuses a server is seen to answer, route by route, beside the ones its OpenAPI document
// declares: the evidence that the document tells the truth about what each route answers.

/** What one operation answered and declares, and where the two differ. */
export interface StatusComparison {
  /** `METHOD /path`, the document's way. */
  operation: string;
  answered: number[];
  declared: number[];
}

/**
 * Keeps every status the app answers, by operation: the status line it sent, whether the
 * answer was finished or the client walked away from it (a watch is left, not ended, and
 * fastify's `onResponse` never sees it). Requests no route took (fastify's 404 for an unknown
 * path), routes the document hides (the console's pages, the document's own) and the methods
 * fastify adds by itself (HEAD for each GET, CORS's OPTIONS) are no operation's.
 */
export function recordAnsweredStatuses(app: FastifyInstance) {
  const answered = new Map<string, Set<number>>();
  const watched = new WeakSet<FastifyRequest>();
  const watch = (request: FastifyRequest, reply: FastifyReply) => {
    const { url, schema } = request.routeOptions;
    if (watched.has(request) || url === undefined || schema?.hide === true || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    watched.add(request);
    const operation = operationKey(request.method, documentPath(url));
    // 'close' comes last, after 'finish' or in its place; a request left before any answer has no status.
    reply.raw.once('close', () => {
      if (reply.raw.headersSent) answered.set(operation, (answered.get(operation) ?? new Set()).add(reply.raw.statusCode));
    });
  };
  app.addHook('onRequest', async (request, reply) => watch(request, reply));
  // Also as an answer is sent: one given by an earlier onRequest hook (load shedding, the rate
  // limit) ends that chain before the hook above runs.
  app.addHook('onSend', async (request, reply) => watch(request, reply));
  /** Each operation's answered statuses, in order. */
  return () => new Map([...answered].map(([operation, statuses]) => [operation, [...statuses].sort((a, b) => a - b)]));
}

/** Every operation that was answered or is declared, with both lists. */
export function compareStatuses(answered: Map<string, number[]>, document: OpenApiDocument): StatusComparison[] {
  const declared = declaredStatuses(document);
  return [...new Set([...declared.keys(), ...answered.keys()])].sort().map((operation) => ({
    operation,
    answered: answered.get(operation) ?? [],
    declared: declared.get(operation) ?? [],
  }));
}

/** The statuses answered that the document does not declare, one `METHOD /path status` line each. */
export const undeclared = (comparisons: readonly StatusComparison[]) =>
  comparisons.flatMap(({ operation, answered, declared }) => answered.filter((status) => !declared.includes(status)).map((status) => `${operation} ${status}`));

/** The statuses declared that were never answered, one `METHOD /path status` line each. */
export const unanswered = (comparisons: readonly StatusComparison[]) =>
  comparisons.flatMap(({ operation, answered, declared }) => declared.filter((status) => !answered.includes(status)).map((status) => `${operation} ${status}`));
