export { openSqliteEventStore, type SqliteEventStore, type SqliteEventStoreOptions, type SynchronousMode, type DatabaseAccess } from './sqlite-event-store.js';
export { SCHEMA_VERSION, SchemaTooNewError } from './migrations.js';
