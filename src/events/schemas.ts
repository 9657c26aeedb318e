import { z } from 'zod';
import { eventDataSchemas, type EventType } from '../contract/index.js';

// Each event's data schema is the contract's (`src/contract/facts.ts`): writers post it and
// readers get it back. Here, the event as the log holds it: its type and its data.
export * from '../contract/facts.js';

const variant = <T extends EventType>(type: T) =>
  z.strictObject({ type: z.literal(type), data: eventDataSchemas[type] });

/** One fact of a session's stream: its type and its data (whose schemas are the contract's). */
export const LedgerEvent = z.discriminatedUnion('type', [
  variant('SessionStarted'),
  variant('CredentialsStored'),
  variant('VmDestroyed'),
  variant('SessionFailed'),
  variant('SessionCancelled'),
  variant('SessionExpired'),
]);
export type LedgerEvent = z.infer<typeof LedgerEvent>;
export type EventOfType<T extends EventType> = Extract<LedgerEvent, { type: T }>;
export type EventData<T extends EventType> = EventOfType<T>['data'];
