import fastifyCors from '@fastify/cors';
import type { FastifyOtelInstrumentation } from '@fastify/otel';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Ledger } from '../application/create-ledger.js';
import { processMetrics } from '../application/process-metrics.js';
import { auditRoutes } from './audit.js';
import { authentication } from './auth.js';
import { consoleRoutes } from './console.js';
import { apiDocs } from './docs.js';
import { problemDetails } from './error-handler.js';
import { examplePage } from './example-page.js';
import { answerClientError, answerFrameworkError, MAX_PARAM_LENGTH } from './framework-errors.js';
import { httpMetrics } from './http-metrics.js';
import { legacyRoutes } from './legacy.js';
import { defaultHttpLimits, timeoutCheckIntervalMs, type HttpLimits } from './limits.js';
import { loadShedding } from './load-shedding.js';
import { answerAsTheLedger } from './node-answers.js';
import { opsRoutes } from './ops.js';
import { rateLimit } from './rate-limit.js';
import { requestLog } from './request-log.js';
import { requestSpans } from './request-spans.js';
import { declareSharedProblems } from './route-schemas.js';
import { sessionRoutes } from './sessions.js';
import { statsRoutes } from './stats.js';
import { webhookRoutes } from './webhooks.js';
import { DEFAULT_TOKEN_MAX_TTL_S } from './token-verifier.js';
import { createTokenSigner } from './tokens.js';
import { vmRoutes } from './vms.js';
import type { WatchLimits } from './watch-hub.js';
import { watchRoutes } from './watch.js';
import { createWatchTickets } from './watch-tickets.js';

export interface HttpOptions {
  jwtSecret: string;
  /** The longest a token may live (LEDGER_TOKEN_MAX_TTL); defaults to a day. */
  tokenMaxTtlSeconds?: number | undefined;
  /** The request log and the plugins' own; pino, as fastify takes it. */
  logger: FastifyBaseLogger;
  /** Largest accepted body; defaults to 16 KiB (an event is a few hundred bytes). */
  bodyLimit?: number | undefined;
  /** Bounds of open watches; default 20 per token, 10,000 in all. */
  watchLimits?: WatchLimits | undefined;
  /** SSE heartbeat interval; defaults to 15 s, below common proxy idle timeouts. */
  heartbeatMs?: number | undefined;
  /** How long a watch stays open after `failed` or `cancelled`; defaults to 120 s. */
  watchGraceMs?: number | undefined;
  /** The web origins whose pages may call the API (CORS); none when empty or absent. */
  corsOrigins?: readonly string[] | undefined;
  /** The built console's files; defaults to `dist/console`. */
  consoleRoot?: string | undefined;
  /** The frontend example's files; defaults to `examples/frontend`. */
  exampleRoot?: string | undefined;
  /** Rate limit, timeouts and load shedding; each one absent is the configuration's default. */
  limits?: Partial<HttpLimits> | undefined;
  /** `@fastify/otel`, when tracing is on (`startTracing`): a span per request. */
  requestSpans?: FastifyOtelInstrumentation | undefined;
}

/** The ledger's HTTP API over a ledger: one fastify app, one plugin per concern. Not listening yet. */
export async function buildApp(ledger: Ledger, options: HttpOptions) {
  const { application, providers, clock, metrics, projector } = ledger;
  const limits: HttpLimits = { ...defaultHttpLimits(), ...options.limits };
  const app = Fastify({
    loggerInstance: options.logger,
    // The request log plugin writes one line per request, with the ledger's own fields.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 16 * 1024,
    // The request id is a fresh UUID, not a counter that restarts with the process.
    genReqId: () => crypto.randomUUID(),
    // A request must arrive in time, its body too (fastify's default is no bound: a body sent a
    // byte a second held its request for ever). It covers receiving the request, not the answer:
    // a watch, once asked for, streams for as long as it lasts.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Given to Node's server as it is made too, which refuses headers allowed longer than the request.
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      connectionsCheckingInterval: timeoutCheckIntervalMs(limits),
      // Node would answer a request without Host with a bare 400 of its own; the app answers it.
      requireHostHeader: false,
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Answers fastify and Node would give in their own JSON, as problems.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError(options.logger),
    // The load shedding answers while closing, as a problem.
    return503OnClosing: false,
  });
  answerAsTheLedger(app.server);
  // First: it wraps the hooks and routes registered after it, and each request's span is their parent.
  if (options.requestSpans) await app.register(requestSpans, { instrumentation: options.requestSpans });
  // JSON only: any other body is a 415, not a string for the schema to puzzle over.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(problemDetails);
  // Every route can answer these two: its OpenAPI document says so.
  app.addHook('onRoute', declareSharedProblems);
  // First the cheapest refusals: shed load, then the rate limit, before any work for the request.
  await app.register(loadShedding, limits.pressure);
  await app.register(rateLimit, limits.rateLimit);
  await app.register(requestLog);
  await app.register(httpMetrics, { metrics: metrics.registry });
  if (options.corsOrigins?.length) {
    // A page of these origins may ask for a watch ticket (a bearer token in a header: a preflight) and open the watch.
    await app.register(fastifyCors, {
      origin: [...options.corsOrigins],
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'last-event-id'],
      maxAge: 600,
    });
  }
  const maxTtlSeconds = options.tokenMaxTtlSeconds ?? DEFAULT_TOKEN_MAX_TTL_S;
  await app.register(authentication, { secret: options.jwtSecret, maxTtlSeconds });
  await app.register(apiDocs);
  const signToken = createTokenSigner(options.jwtSecret, clock, { maxTtlSeconds });
  await app.register(sessionRoutes, { application, providers, signToken });
  await app.register(vmRoutes, { application });
  await app.register(watchRoutes, {
    application,
    projector,
    clock,
    metrics: metrics.registry,
    limits: options.watchLimits,
    heartbeatMs: options.heartbeatMs,
    graceMs: options.watchGraceMs,
    tickets: createWatchTickets(options.jwtSecret, clock),
  });
  await app.register(legacyRoutes, { application });
  await app.register(auditRoutes, { application });
  await app.register(statsRoutes, { application });
  await app.register(webhookRoutes, { webhooks: ledger.webhooks });
  await app.register(opsRoutes, { application, metrics: metrics.registry, processMetrics: processMetrics() });
  await app.register(consoleRoutes, { signToken, clock, root: options.consoleRoot });
  await app.register(examplePage, { root: options.exampleRoot });
  return app;
}
