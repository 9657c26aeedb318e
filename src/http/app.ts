import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { createCommandHandler } from '../commands/handle-command.js';
import type { Projector } from '../projector/projector-port.js';
import type { ReadModel } from '../projector/read-model.js';
import type { EventStore } from '../store/port.js';
import { authentication } from './auth.js';
import { apiDocs } from './docs.js';
import { problemDetails } from './error-handler.js';
import { createLedgerMetrics } from './metrics.js';
import { opsRoutes } from './ops.js';
import { requestLog } from './request-log.js';
import type { LedgerServices } from './services.js';
import { sessionRoutes } from './sessions.js';
import { createTokenSigner } from './tokens.js';
import { vmRoutes } from './vms.js';

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
}

/** The ledger's HTTP API: one fastify app, one plugin per concern. Not listening yet. */
export async function buildApp(options: LedgerAppOptions): Promise<FastifyInstance> {
  const { store, readModel, projector, clock, jwtSecret, providers, logger } = options;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    disableRequestLogging: true,
    bodyLimit: options.bodyLimit ?? 16 * 1024,
    // The request id is a fresh UUID, not a counter that restarts with the process.
    genReqId: () => crypto.randomUUID(),
  });
  // JSON only: any other body is a 415, not a string for the schema to puzzle over.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const services: LedgerServices = {
    store,
    readModel,
    projector,
    clock,
    commands: createCommandHandler({ store, clock }),
    signToken: createTokenSigner(jwtSecret, clock),
    metrics: createLedgerMetrics({ projector, readModel }),
    providers,
    readWaitMs: options.readWaitMs ?? 5000,
  };
  app.decorate('ledger', services);

  await app.register(problemDetails);
  await app.register(requestLog);
  await app.register(authentication, { secret: jwtSecret });
  await app.register(apiDocs);
  await app.register(sessionRoutes);
  await app.register(vmRoutes);
  await app.register(opsRoutes);
  return app;
}
