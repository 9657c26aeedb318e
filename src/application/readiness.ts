import { SESSION_CATEGORY } from '../events/index.js';
import type { Projector } from '../projector/projector-port.js';
import { StoreUnavailableError, type StorageFaultKind } from '../store/errors.js';
import type { EventStore } from '../store/port.js';
import type { WriteFaults } from './write-faults.js';

export interface ProjectorReport {
  running: boolean;
  caughtUp: boolean;
  position: string;
  lag: string;
}

/** What readiness found of the store and the projector. */
export interface ReadinessState {
  store: 'reachable';
  projector: ProjectorReport;
}

/** What the storage does to this instance's writes: the appends' (`store`) or the read model's (`projector`). */
export interface ReadinessFault {
  of: 'store' | 'projector';
  kind: StorageFaultKind;
  /** When the appends first met it (ISO); the projector's is as recent as its last retry. */
  since?: string;
}

/** Whether this instance should take requests, for `/readyz` and a load balancer; and why not. */
export type Readiness =
  | { ready: true; state: ReadinessState }
  | { ready: false; reason: string; state?: ReadinessState; fault?: ReadinessFault };

/**
 * Ready means the store answers and takes writes, and the projector follows it, caught up
 * and able to write the read model.
 */
export async function readiness({ store, projector, writeFaults }: { store: EventStore; projector: Projector; writeFaults: WriteFaults }): Promise<Readiness> {
  let head: bigint;
  try {
    head = await store.lastPosition({ category: SESSION_CATEGORY });
  } catch (error) {
    // An adapter that already says "not reachable" keeps the reason in its cause.
    const reason = error instanceof StoreUnavailableError ? error.cause : error;
    return { ready: false, reason: `the event store is not reachable: ${(reason as Error).message}` };
  }
  const state: ReadinessState = {
    store: 'reachable',
    projector: {
      running: projector.running,
      caughtUp: projector.caughtUp,
      position: String(projector.position),
      lag: String(head > projector.position ? head - projector.position : 0n),
    },
  };
  // A fault the appends met is looked at again first: it may be gone.
  writeFaults.recheck();
  const noted = writeFaults.current;
  if (noted) {
    const since = noted.since.toISOString();
    return { ready: false, reason: `${noted.error.message}, since ${since}; appends answer 503 until it can`, state, fault: { of: 'store', kind: noted.error.kind, since } };
  }
  if (projector.fault) {
    const { kind, description } = projector.fault;
    return { ready: false, reason: `the projector cannot write the read model: ${description}; it retries`, state, fault: { of: 'projector', kind } };
  }
  if (projector.failure) return { ready: false, reason: `the projector stopped: ${projector.failure.message}`, state };
  if (!projector.running) return { ready: false, reason: 'the projector is not running', state };
  if (!projector.caughtUp) return { ready: false, reason: 'the projector is still catching up', state };
  return { ready: true, state };
}
