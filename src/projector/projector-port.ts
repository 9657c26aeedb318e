import type { StorageFaultError } from '../store/errors.js';
import type { SessionRow } from './session-row.js';

/** What the projector tells the rest of the ledger. */
export interface Projector {
  /** Starts following the store from the checkpoint; returns at once. */
  start(): void;
  /** Stops after the transaction in progress, if any; the checkpoint is then exact. */
  stop(): Promise<void>;
  /** The position of the last event applied to the read model (the checkpoint). */
  readonly position: bigint;
  readonly running: boolean;
  /** True once the subscription has delivered every event that existed when it started. */
  readonly caughtUp: boolean;
  /** Why the projector stopped by itself, if it did. */
  readonly failure: Error | null;
  /** Why it cannot write the read model now (a full disk, a read-only file), while it retries; null once a batch commits. */
  readonly fault: StorageFaultError | null;
  /** Resolves true once `position` has reached `target`, false after `timeoutMs`. */
  waitForPosition(target: bigint, timeoutMs: number): Promise<boolean>;
  /** How many positions the store is ahead of the read model. */
  lag(): Promise<bigint>;
  /** Called after each committed batch with the rows it changed, in position order; returns an unsubscribe. */
  onChange(listener: (rows: readonly SessionRow[]) => void): () => void;
}
