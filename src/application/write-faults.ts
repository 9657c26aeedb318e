import { StorageFaultError } from '../store/errors.js';
import type { CommandHandler } from './command-handler.js';

/** A storage fault writes met, and since when. */
export interface NotedFault {
  error: StorageFaultError;
  since: Date;
}

/**
 * What the ledger's writes last met from the storage: a fault (a full disk, a read-only file)
 * until a write goes through. `/readyz` names it while it lasts.
 */
export interface WriteFaults {
  readonly current: NotedFault | null;
  /** The same handler, noting the storage faults its appends meet, and each append that is stored. */
  track(handle: CommandHandler): CommandHandler;
  /**
   * While a fault is noted, writes once on its own (`probe`): a fault that is gone is then
   * forgotten without waiting for an append, which a load balancer that reads `/readyz`
   * would not send while it lasts.
   */
  recheck(): void;
}

export function createWriteFaults({ probe, clock }: { probe: () => void; clock: () => Date }): WriteFaults {
  let current: NotedFault | null = null;
  const noteFault = (error: StorageFaultError) => {
    // The first moment counts: the same fault met again has lasted since then.
    current = { error, since: current?.error.kind === error.kind ? current.since : clock() };
  };
  return {
    get current() {
      return current;
    },
    track(handle) {
      return async (command, envelope, guard) => {
        try {
          const handled = await handle(command, envelope, guard);
          // Only a write clears it: a recognised retry or a refusal wrote nothing.
          if (handled.recorded) current = null;
          return handled;
        } catch (error) {
          if (error instanceof StorageFaultError && error.operation === 'write') noteFault(error);
          throw error;
        }
      };
    },
    recheck() {
      if (current === null) return;
      try {
        probe();
        current = null;
      } catch (error) {
        if (error instanceof StorageFaultError) noteFault(error);
      }
    },
  };
}
