import { SESSION_CATEGORY, derivedEventId, type Actor } from '../events/index.js';
import type { ReadModel } from '../projector/read-model.js';
import type { EventStore } from '../store/port.js';
import type { CommandHandler, HandledCommand } from './command-handler.js';
import { VmNotFoundError } from './errors.js';
import { awaitReadModel, type ReadWaitDeps } from './read-session.js';

export interface VmDestroyedDeps extends ReadWaitDeps {
  commands: CommandHandler;
  store: EventStore;
  readModel: ReadModel;
}

export interface VmDestroyedInput {
  reason: string;
  /** The call's idempotency key; each session's event id is derived from it. */
  eventId?: string | undefined;
}

/**
 * The VM manager reports a destroyed VM by its id: `VmDestroyed` is recorded for each session
 * that ran in it (normally one), each with an event id derived from the call (or from the VM
 * when the call names none), so a retried call is recognised for every session it touched.
 */
export async function recordVmDestroyed(
  deps: VmDestroyedDeps,
  vmId: string,
  { reason, eventId }: VmDestroyedInput,
  actor: Actor,
): Promise<{ sessionId: string; handled: HandledCommand }[]> {
  // The VM's sessions are found through the read model, which must first have seen every
  // session started so far: a VM destroyed right after its start is the common case.
  await awaitReadModel(deps, await deps.store.lastPosition({ category: SESSION_CATEGORY }));
  const sessionIds = deps.readModel.sessionIdsOfVm(vmId);
  if (sessionIds.length === 0) throw new VmNotFoundError(vmId);
  const recorded = [];
  for (const sessionId of sessionIds) {
    const handled = await deps.commands(
      { type: 'RecordFact', data: { fact: { type: 'VmDestroyed', data: { sessionId, vmId, reason } } } },
      { eventId: derivedEventId(`VmDestroyed/${eventId ?? vmId}/${sessionId}`), actor },
    );
    recorded.push({ sessionId, handled });
  }
  return recorded;
}
