import { fastifySSE } from '@fastify/sse';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { createCommandHandler } from '../commands/handle-command.js';
import type { Projector } from '../projector/projector-port.js';
import type { ReadModel } from '../projector/read-model.js';
import type { EventStore } from '../store/port.js';
import { authentication } from './auth.js';
import { legacyRoutes } from './legacy.js';
import { apiDocs } from './docs.js';
import { problemDetails } from './error-handler.js';
import { createLedgerMetrics } from './metrics.js';
import { opsRoutes } from './ops.js';
import { requestLog } from './request-log.js';
import type { LedgerServices } from './services.js';
import { sessionRoutes } from './sessions.js';
import { createTokenSigner } from './tokens.js';
import { vmRoutes } from './vms.js';
import { createWatchHub, type WatchLimits } from './watch-hub.js';
import { watchRoutes } from './watch.js';

export interface LedgerAppOptions {
  store: EventStore;
  readModel: ReadModel;
  projector: Projector;
  clock: () => Date;
  jwtSecret: string;
  providers: readonly string[];
  logger: Logger;
  /** Bound of a `?after=` wait; defaults to 5 s. */
  readWaitMs?: number;
  /** Largest accepted body; defaults to 16 KiB (an event is a few hundred bytes). */
  bodyLimit?: number;
  /** Bounds of open watches; default 20 per token, 10,000 in all. */
  watchLimits?: WatchLimits;
  /** SSE heartbeat interval; defaults to 15 s, below common proxy idle timeouts. */
  heartbeatMs?: number;
}

/** The ledger's HTTP API: one fastify app, one plugin per concern. Not listening yet. */
export async function buildApp(options: LedgerAppOptions): Promise<FastifyInstance> {
  const { store, readModel, projector, clock, jwtSecret, providers, logger } = options;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // The request log plugin writes one line per request, with the ledger's own fields.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 16 * 1024,
    // The request id is a fresh UUID, not a counter that restarts with the process.
    genReqId: () => crypto.randomUUID(),
  });
  // JSON only: any other body is a 415, not a string for the schema to puzzle over.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const watchHub = createWatchHub(projector, options.watchLimits ?? { perToken: 20, total: 10_000 });
  const services: LedgerServices = {
    store,
    readModel,
    projector,
    clock,
    commands: createCommandHandler({ store, clock }),
    signToken: createTokenSigner(jwtSecret, clock),
    metrics: createLedgerMetrics({ projector, readModel, openWatches: () => watchHub.open }),
    providers,
    readWaitMs: options.readWaitMs ?? 5000,
    watchHub,
  };
  app.decorate('ledger', services);
  // Open watches would hold app.close() until they end by themselves: end them first.
  app.addHook('preClose', async () => services.watchHub.close());

  await app.register(problemDetails);
  await app.register(requestLog);
  await app.register(authentication, { secret: jwtSecret });
  await app.register(apiDocs);
  await app.register(sessionRoutes);
  await app.register(vmRoutes);
  await app.register(fastifySSE, { heartbeatInterval: options.heartbeatMs ?? 15_000 });
  await app.register(watchRoutes);
  await app.register(legacyRoutes);
  await app.register(opsRoutes);
  return app;
}
