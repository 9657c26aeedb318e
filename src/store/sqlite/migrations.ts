import type Database from 'better-sqlite3';

/**
 * The store's schema, as an ordered list of migrations. A database records the last one
 * applied in `schema_version`; opening applies the rest in one transaction. Append new
 * migrations; never edit one that has shipped.
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
];

export const SCHEMA_VERSION = migrations.length;

export class SchemaTooNewError extends Error {
  override readonly name = 'SchemaTooNewError';
  constructor(readonly found: number) {
    super(`the database has schema version ${found}, newer than this ledger's ${SCHEMA_VERSION}; upgrade the ledger`);
  }
}

function versionOf(db: Database.Database): number {
  const row = db.prepare('select max(version) as version from schema_version').get() as { version: bigint | number | null };
  return Number(row.version ?? 0);
}

/** Brings the database to the current schema; returns the version it had before. */
export function migrate(db: Database.Database): number {
  db.exec('create table if not exists schema_version (version integer not null, applied_at text not null)');
  // IMMEDIATE: two processes opening a new file at once must not both migrate it.
  return db
    .transaction(() => {
      const found = versionOf(db);
      if (found > SCHEMA_VERSION) throw new SchemaTooNewError(found);
      for (let version = found + 1; version <= SCHEMA_VERSION; version++) {
        db.exec(migrations[version - 1]!);
        db.prepare('insert into schema_version (version, applied_at) values (?, ?)').run(version, new Date().toISOString());
      }
      return found;
    })
    .immediate();
}
