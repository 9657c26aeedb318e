import t from 'tap';
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
});
