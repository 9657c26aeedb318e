import type { ListQuery, OutcomesQuery, SessionQuery, StartSessionBody } from '../contract/index.js';
import type { OutcomesReadModel } from '../projector/outcomes-read-model.js';
import { outcomeStats } from './outcome-stats.js';
import type { Actor } from '../events/index.js';
import type { Projector } from '../projector/projector-port.js';
import type Database from 'better-sqlite3';
import { exportPages, type ExportFilter } from '../audit/export.js';
import { sealsDocument } from '../audit/sealer.js';
import type { SealKey } from '../audit/seals.js';
import { verifyLedger } from '../audit/verify.js';
import type { SqliteReadModel } from '../projector/sqlite-read-model.js';
import type { EventStore } from '../store/port.js';
import type { Caller, SessionVisibility } from './caller.js';
import type { CommandHandler } from './command-handler.js';
import type { WriteFaults } from './write-faults.js';
import { completeLegacySession } from './complete-legacy-session.js';
import { readiness } from './readiness.js';
import { listSessions, readSession, sessionEvents } from './read-session.js';
import { recordFact, type RecordFactInput } from './record-fact.js';
import { sessionTimeline } from './session-timeline.js';
import { startSession } from './start-session.js';
import { recordVmDestroyed, type VmDestroyedInput } from './vm-destroyed.js';
import { startWatch } from './watch-start.js';

/** Everything the use cases take, each as much of it as it needs. */
export interface ApplicationDeps {
  store: EventStore;
  readModel: SqliteReadModel;
  /** The read model's connection, where the seals are kept. */
  readModelDb: Database.Database;
  projector: Projector;
  outcomes: OutcomesReadModel;
  commands: CommandHandler;
  /** What the storage did to the last appends, for readiness. */
  writeFaults: WriteFaults;
  clock: () => Date;
  readWaitMs: number;
  /** The key that signs seals; null without one. */
  sealKey: SealKey | null;
}

/**
 * The ledger's use cases, bound to its parts: what the HTTP routes call, one per route. Each
 * is a plain function of its own module, with its dependencies named there.
 */
export function createApplication(deps: ApplicationDeps) {
  return {
    startSession: (input: StartSessionBody, actor: Actor) => startSession(deps, input, actor),
    recordFact: (input: RecordFactInput, caller: Caller) => recordFact(deps, input, caller),
    recordVmDestroyed: (vmId: string, input: VmDestroyedInput, actor: Actor) => recordVmDestroyed(deps, vmId, input, actor),
    completeLegacySession: (sessionId: string, input: { credentialRef?: string | undefined }, caller: Caller) =>
      completeLegacySession(deps, sessionId, input, caller),
    readSession: (sessionId: string, query: SessionQuery, maySee: SessionVisibility) => readSession(deps, sessionId, query, maySee),
    sessionEvents: (sessionId: string, maySee: SessionVisibility) => sessionEvents(deps, sessionId, maySee),
    sessionTimeline: (sessionId: string, maySee: SessionVisibility) => sessionTimeline(deps, sessionId, maySee),
    listSessions: (query: ListQuery) => listSessions(deps, query),
    startWatch: (sessionId: string, lastEventId: bigint | undefined, maySee: SessionVisibility) => startWatch(deps, sessionId, lastEventId, maySee),
    readiness: () => readiness(deps),
    verify: () => verifyLedger(deps),
    seals: () => sealsDocument(deps.readModelDb, deps.sealKey?.publicKeyPem ?? null),
    exportPages: (filter: ExportFilter) => exportPages(deps.store, filter),
    outcomeStats: (query: OutcomesQuery) => outcomeStats(deps, query),
  };
}

export type Application = ReturnType<typeof createApplication>;
