import { EventStoreDBClient, jsonEvent, NO_STREAM } from '@eventstore/db-client';
import t from 'tap';
import { ledgerEventCodec } from '../../src/events/index.js';
import { openEventStoreDbStore } from '../../src/store/eventstoredb/eventstoredb-event-store.js';
import { startEsdbEmulator } from '../emulator/esdb-emulator.js';
import { eventStoreConformance } from './event-store-conformance.js';

// Against a real server when one is named (e.g. EVENTSTORE_CONNECTION_STRING=esdb://localhost:2113?tls=false),
// otherwise over real gRPC against the test emulator.
const real = process.env.EVENTSTORE_CONNECTION_STRING;
const emulator = real ? undefined : await startEsdbEmulator();
if (emulator) t.teardown(() => emulator.stop());
const connectionString = real ?? emulator!.connectionString;

eventStoreConformance({
  name: real ? 'eventstoredb (server)' : 'eventstoredb (emulator)',
  open: async () => openEventStoreDbStore({ connectionString }),
  // Events as a ledger wrote them before the chain: the codec's metadata, with no hash in it.
  async appendBeforeTheChain(streamName, events) {
    const client = EventStoreDBClient.connectionString(connectionString);
    try {
      const prepared = events.map((event) => ledgerEventCodec.prepare(event));
      await client.appendToStream(
        streamName,
        prepared.map((event) => jsonEvent({ id: event.eventId, type: event.type, data: event.data, metadata: event.metadata })),
        { expectedRevision: NO_STREAM },
      );
    } finally {
      await client.dispose();
    }
  },
});
