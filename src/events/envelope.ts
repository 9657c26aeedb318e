import type { EventMetadata, EventMetadataInput } from './metadata.js';
import type { LedgerEvent } from './schemas.js';

/** An event as a writer hands it to the store. */
export type NewEvent<E extends LedgerEvent = LedgerEvent> = E & {
  eventId: string;
  metadata: EventMetadataInput;
};

/** An event as the store gives it back: where it sits, and its full metadata. */
export type RecordedEvent<E extends LedgerEvent = LedgerEvent> = E & {
  eventId: string;
  streamName: string;
  /** 0-based place in its stream. */
  revision: bigint;
  /** Place in the whole store; strictly increasing in append order. */
  position: bigint;
  metadata: EventMetadata;
  /** Its link in the stream's hash chain (`src/store/hash-chain.ts`); null for an event recorded before the chain existed. */
  hash: string | null;
};
