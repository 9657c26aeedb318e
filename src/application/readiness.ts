import { SESSION_CATEGORY } from '../events/index.js';
import type { Projector } from '../projector/projector-port.js';
import { StoreUnavailableError } from '../store/errors.js';
import type { EventStore } from '../store/port.js';

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

/** Whether this instance should take requests, for `/readyz` and a load balancer; and why not. */
export type Readiness = { ready: true; state: ReadinessState } | { ready: false; reason: string; state?: ReadinessState };

/** Ready means the store answers and the projector follows it, caught up. */
export async function readiness({ store, projector }: { store: EventStore; projector: Projector }): Promise<Readiness> {
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
  if (projector.failure) return { ready: false, reason: `the projector stopped: ${projector.failure.message}`, state };
  if (!projector.running) return { ready: false, reason: 'the projector is not running', state };
  if (!projector.caughtUp) return { ready: false, reason: 'the projector is still catching up', state };
  return { ready: true, state };
}
