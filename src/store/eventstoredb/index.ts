export { openEventStoreDbStore, type EventStoreDbStoreOptions } from './eventstoredb-event-store.js';
