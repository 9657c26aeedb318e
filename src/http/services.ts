import type { CommandHandler } from '../commands/handle-command.js';
import type { Projector } from '../projector/projector-port.js';
import type { ReadModel } from '../projector/read-model.js';
import type { EventStore } from '../store/port.js';
import type { LedgerMetrics } from './metrics.js';
import type { TokenSigner } from './tokens.js';
import type { WatchHub } from './watch-hub.js';

/** What the routes use, decorated on the app as `app.ledger`. */
export interface LedgerServices {
  store: EventStore;
  readModel: ReadModel;
  projector: Projector;
  commands: CommandHandler;
  clock: () => Date;
  signToken: TokenSigner;
  metrics: LedgerMetrics;
  /** Accepted provider slugs (configuration). */
  providers: readonly string[];
  /** How long a read waits for the projector (`?after=`) before answering 503. */
  readWaitMs: number;
  watchHub: WatchHub;
}

declare module 'fastify' {
  interface FastifyInstance {
    ledger: LedgerServices;
  }
  interface FastifyRequest {
    /** What the request log line names, where the route knows it. */
    logContext: { sessionId?: string; eventType?: string };
  }
}
