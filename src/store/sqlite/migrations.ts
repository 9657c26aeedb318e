import type Database from 'better-sqlite3';
import { LedgerError } from '../../ledger-error.js';
import { withStorageFaults } from './storage-fault.js';

/**
 * A schema as an ordered list of migrations, and the table where a database records the last
 * one it has had. The event store and the read model each have one: in EventStoreDB mode the
 * read-model file holds only the read model, so neither may assume the other's tables.
 * Append new migrations; never edit one that has shipped.
 */
export interface Schema {
  readonly versionTable: string;
  readonly migrations: readonly string[];
}

/**
 * The event store's schema. A database records the last migration applied in
 * `schema_version`; opening applies the rest in one transaction.
 */
export const migrations: readonly string[] = [
  // 1: the event log. `position` is the global order (AUTOINCREMENT: never reused, even
  // after a rolled-back append); the database itself enforces one event per
  // (stream, revision) and one use of each event id.
  `create table events (
     position    integer primary key autoincrement,
     stream_name text    not null,
     category    text    not null,
     revision    integer not null check (revision >= 0),
     event_id    text    not null unique,
     type        text    not null,
     data        text    not null,
     metadata    text    not null,
     unique (stream_name, revision)
   ) strict;
   create index events_by_category on events (category, position);`,
  // 2: each event's link in its stream's hash chain (hash-chain.ts). Events recorded before
  // keep no hash: they are never rewritten, and the first chained event links over them.
  `alter table events add column hash text;`,
];

export const SCHEMA_VERSION = migrations.length;

export const eventStoreSchema: Schema = { versionTable: 'schema_version', migrations };

/** The file was written by a newer ledger; an older one must not guess at its tables. */
export class SchemaTooNewError extends LedgerError {
  override readonly name = 'SchemaTooNewError';
  readonly code = 'schema-too-new';
  constructor(
    readonly found: number,
    readonly supported: number = SCHEMA_VERSION,
    readonly versionTable: string = eventStoreSchema.versionTable,
  ) {
    const what = versionTable === eventStoreSchema.versionTable ? 'schema version' : versionTable;
    super(`the database has ${what} ${found}, newer than this ledger's ${supported}; upgrade the ledger`);
  }
}

/** A table name spliced into SQL (SQLite cannot bind identifiers): only plain names pass. */
export function assertTableName(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`invalid table name ${JSON.stringify(name)}`);
}

function versionOf(db: Database.Database, versionTable: string): number {
  const row = db.prepare(`select max(version) as version from ${versionTable}`).get() as { version: bigint | number | null };
  return Number(row.version ?? 0);
}

/** The last migration the file has had; a file of a newer ledger is refused, not guessed at. */
function supportedVersionOf(db: Database.Database, { versionTable, migrations: steps }: Schema): number {
  const found = versionOf(db, versionTable);
  if (found > steps.length) throw new SchemaTooNewError(found, steps.length, versionTable);
  return found;
}

/** A file opened read-only that an older ledger wrote: reading it by this ledger's tables would guess. */
export class SchemaBehindError extends LedgerError {
  override readonly name = 'SchemaBehindError';
  readonly code = 'schema-behind';
  constructor(
    readonly found: number,
    readonly current: number,
    readonly versionTable: string,
  ) {
    super(`the database has ${versionTable} ${found}, older than this ledger's ${current}; \`ledger serve\` brings it up to date (a read-only command changes nothing)`);
  }
}

/**
 * Brings the database to the schema's last migration; returns the version it had before.
 * Without a schema it migrates the event store, as it always has. A connection opened
 * read-only is only checked: it must already be at the last migration.
 */
export function migrate(db: Database.Database, schema: Schema = eventStoreSchema): number {
  // Run as a file is opened: a corrupt file or a full disk stops the command there, said as such.
  return withStorageFaults(db.name, 'open', () => migrateNow(db, schema));
}

function migrateNow(db: Database.Database, schema: Schema): number {
  const { versionTable, migrations: steps } = schema;
  assertTableName(versionTable);
  if (db.readonly) {
    const hasTable = db.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(versionTable) !== undefined;
    const found = hasTable ? supportedVersionOf(db, schema) : 0;
    if (found < steps.length) throw new SchemaBehindError(found, steps.length, versionTable);
    return found;
  }
  db.exec(`create table if not exists ${versionTable} (version integer not null, applied_at text not null)`);
  // IMMEDIATE: two processes opening a new file at once must not both migrate it.
  return db
    .transaction(() => {
      const found = supportedVersionOf(db, schema);
      const record = db.prepare(`insert into ${versionTable} (version, applied_at) values (?, ?)`);
      for (let version = found + 1; version <= steps.length; version++) {
        db.exec(steps[version - 1]!);
        record.run(version, new Date().toISOString());
      }
      return found;
    })
    .immediate();
}
