import type { RecordedEvent } from '../events/index.js';
import type { SessionRow } from './session-row.js';

/** What one committed batch did: the checkpoint after it, and the rows it changed in position order. */
export interface AppliedBatch {
  position: bigint;
  rows: SessionRow[];
}

/**
 * A read model the projector keeps: where it stands in the log, and how a batch of events is
 * applied to it with that position, in one transaction (all of it or, on a crash, none).
 */
export interface Projection {
  /** Its row in `projector_checkpoint`. */
  readonly name: string;
  /** The position it has applied up to; 0n before its first batch. */
  checkpoint(): bigint;
  /** Applies the events after the checkpoint (read inside the transaction) and moves it; the rows it changed, for listeners. */
  apply(events: readonly RecordedEvent[]): AppliedBatch;
}
