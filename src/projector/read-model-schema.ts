import type { Schema } from '../store/sqlite/migrations.js';

/**
 * The read model's schema, versioned in its own table: in embedded mode it shares the event
 * store's file, in EventStoreDB mode it is the whole file. Append new migrations; never edit
 * one that has shipped. A change to the shape of `SessionState` ships as a migration that
 * empties `auth_sessions` and `projector_checkpoint`, so the projector rebuilds from the log.
 */
export const readModelSchema: Schema = {
  versionTable: 'read_model_version',
  migrations: [
    // 1: the legacy `auth_sessions` columns, where the row stands in the log, and what the
    // projector needs to go on folding without rereading the stream:
    // - `created_at_ms`: the instant `created_at` names. Timestamps may carry an offset or
    //   more than three decimals, so their text does not sort in time order.
    // - `fold_state`: the whole SessionState as JSON (bigints as decimal strings).
    // Every row comes from at least one event, whose `recordedAt` gives both times.
    `create table auth_sessions (
       session_id    text    primary key,
       user_id       text,
       provider      text,
       browser_vm_id text,
       status        text    not null check (status in ('pending', 'completed', 'failed', 'cancelled')),
       completed_at  text,
       error_message text,
       created_at    text    not null,
       updated_at    text    not null,
       revision      integer not null,
       position      integer not null,
       anomalies     text    not null,
       created_at_ms integer not null,
       fold_state    text    not null
     ) strict;
     create index auth_sessions_by_vm on auth_sessions (browser_vm_id);
     create index auth_sessions_newest on auth_sessions (created_at_ms desc, session_id desc);
     create index auth_sessions_by_user on auth_sessions (user_id, created_at_ms desc, session_id desc);
     create index auth_sessions_by_status on auth_sessions (status, created_at_ms desc, session_id desc);
     create index auth_sessions_by_provider on auth_sessions (provider, created_at_ms desc, session_id desc);
     create table projector_checkpoint (
       name     text    primary key,
       position integer not null check (position >= 0)
     ) strict;`,
  ],
};
