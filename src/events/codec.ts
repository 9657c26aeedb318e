import { z } from 'zod';
import type { RecordedEvent } from './envelope.js';
import {
  InvalidEventError,
  UndecodableEventError,
  UnknownEventTypeError,
  issuesOf,
  type ValidationIssue,
} from './errors.js';
import { EventId } from '../contract/index.js';
import { EventMetadata, EventMetadataInput } from './metadata.js';
import { eventDataSchemas, isEventType, type EventType, type LedgerEvent } from './schemas.js';
import { currentSchemaVersion, ledgerUpcasters, upcast, type UpcasterRegistry } from './upcasters.js';

/** A validated event, ready for an adapter: parsed values for comparison, JSON for storage. */
export interface PreparedEvent {
  eventId: string;
  type: EventType;
  data: LedgerEvent['data'];
  metadata: EventMetadata;
  dataJson: string;
  metadataJson: string;
}

/** An event exactly as the store holds it, before decoding: what the hash chain covers. */
export interface StoredEvent {
  eventId: string;
  streamName: string;
  revision: bigint;
  position: bigint;
  type: string;
  /** The data's JSON text as written. */
  dataJson: string;
  /** The metadata's JSON text as written. */
  metadataJson: string;
  /** The event's link in its stream's hash chain; null when it was recorded before the chain existed. */
  hash: string | null;
}

export interface EventCodec {
  /** Validates an event a writer proposes; throws InvalidEventError and touches nothing. */
  prepare(event: unknown): PreparedEvent;
  /** Upcasts and validates a stored event; throws UndecodableEventError. */
  decode(stored: StoredEvent): RecordedEvent;
}

/** The envelope's own keys; anything else (a token beside `data`) is refused. */
const Envelope = z.strictObject({ type: z.unknown(), eventId: z.unknown(), data: z.unknown(), metadata: z.unknown() });

function check<T>(schema: z.ZodType<T>, value: unknown, path: string, issues: ValidationIssue[]): T | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  issues.push(...issuesOf(parsed.error, path));
  return undefined;
}

export function createEventCodec(upcasters: UpcasterRegistry = ledgerUpcasters): EventCodec {
  return {
    prepare(event) {
      const issues: ValidationIssue[] = [];
      const envelope = check(Envelope, event, '', issues);
      if (!envelope) throw new InvalidEventError(issues);
      const { type } = envelope;
      if (typeof type !== 'string' || !isEventType(type)) throw new UnknownEventTypeError(type);
      const eventId = check(EventId, envelope.eventId, 'eventId', issues);
      const data = check<LedgerEvent['data']>(eventDataSchemas[type], envelope.data, 'data', issues);
      const input = check(EventMetadataInput, envelope.metadata, 'metadata', issues);
      if (issues.length > 0 || eventId === undefined || data === undefined || input === undefined) {
        throw new InvalidEventError(issues);
      }
      const metadata: EventMetadata = { ...input, schemaVersion: currentSchemaVersion(upcasters, type) };
      return { eventId, type, data, metadata, dataJson: JSON.stringify(data), metadataJson: JSON.stringify(metadata) };
    },

    decode(stored) {
      const fail = (reason: string) => new UndecodableEventError(stored.streamName, stored.revision, reason);
      const { type } = stored;
      if (!isEventType(type)) throw fail(`unknown event type ${JSON.stringify(type)}`);
      let rawData: unknown;
      let rawMetadata: unknown;
      try {
        rawData = JSON.parse(stored.dataJson);
        rawMetadata = JSON.parse(stored.metadataJson);
      } catch (error) {
        throw fail(`not JSON (${(error as Error).message})`);
      }
      const metadata = EventMetadata.safeParse(rawMetadata);
      if (!metadata.success) throw fail(`metadata: ${z.prettifyError(metadata.error)}`);
      const version = metadata.data.schemaVersion;
      const current = currentSchemaVersion(upcasters, type);
      if (version > current) throw fail(`schema version ${version} of ${type} is newer than this ledger's (${current})`);
      if (typeof rawData !== 'object' || rawData === null) throw fail('data is not an object');
      const data = eventDataSchemas[type].safeParse(upcast(upcasters, type, version, rawData as Record<string, unknown>));
      if (!data.success) throw fail(`data: ${z.prettifyError(data.error)}`);
      return {
        type,
        data: data.data,
        eventId: stored.eventId,
        streamName: stored.streamName,
        revision: stored.revision,
        position: stored.position,
        metadata: metadata.data,
        hash: stored.hash,
      } as RecordedEvent;
    },
  };
}

/** The codec for the ledger's current schemas. */
export const ledgerEventCodec = createEventCodec();
