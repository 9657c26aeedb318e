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
    // 2: the deadline, for the sweeper's question "which pending sessions are past it?".
    // - `expires_at`: the first `SessionStarted`'s `expiresAt`, as the fold holds it; null
    //   while a stream has no start.
    // - `expires_at_ms`: its instant, for the same reason as `created_at_ms`.
    // - `auth_sessions_due`: by status, then deadline, so the sweep reads the pending rows
    //   that are due in deadline order from the head of the index, without a sort. (A partial
    //   index on pending rows alone would be smaller, but without `analyze` statistics SQLite
    //   prefers `auth_sessions_by_status` to it and sorts.)
    // Existing rows are emptied along with the checkpoint, so the projector rebuilds them
    // from the log and fills the new columns with the code that fills them on every write,
    // rather than a second, SQL, reading of timestamps that might disagree with
    // `Date.parse` on offsets or fractions. Until the rebuild catches up `/readyz` answers
    // "still catching up", and a read with `?after=` waits for it.
    `delete from auth_sessions;
     delete from projector_checkpoint;
     alter table auth_sessions add column expires_at text;
     alter table auth_sessions add column expires_at_ms integer;
     create index auth_sessions_due on auth_sessions (status, expires_at_ms, session_id);`,
    // 3: for auditors.
    // - `head_hash`: the hash of the last event folded in, its stream's chain head as of the
    //   row: what a seal signs, for every stream, as of the checkpoint. Null for a row written
    //   before this migration or whose last event was recorded before the chain: the sealer
    //   then reads the head from the log.
    // - `seals`: the signed statements of the log's heads, oldest first (audit/seals.ts).
    `alter table auth_sessions add column head_hash text;
     create table seals (
       seq           integer primary key,
       position      integer not null check (position >= 0),
       heads_hash    text    not null,
       previous_seal text,
       sealed_at     text    not null,
       signature     text    not null
     ) strict;`,
    // 4: the `session_outcomes` projection (outcomes-read-model.ts), kept by a projector of its
    // own with its own checkpoint: sessions counted by the hour they were created, provider,
    // status and failure reason ('' for none, so the key is whole), and each session's state
    // and the bucket it is counted in, to move it when its status changes. Empty until that
    // projector has caught up with the log, which it does from position 0 on first start.
    `create table session_outcomes (
       hour           integer not null,
       provider       text    not null,
       status         text    not null check (status in ('pending', 'completed', 'failed', 'cancelled')),
       failure_reason text    not null,
       sessions       integer not null check (sessions >= 0),
       primary key (hour, provider, status, failure_reason)
     ) strict, without rowid;
     create table session_outcome_states (
       session_id     text    primary key,
       hour           integer not null,
       provider       text    not null,
       status         text    not null,
       failure_reason text    not null,
       fold_state     text    not null
     ) strict;`,
    // 5: webhook delivery (src/reactions/). Each subscription's consumer has its own checkpoint,
    // moved only once a message is delivered (or dead-lettered), so a restart resends what was
    // not. `webhook_dead_letters`: each message that failed every attempt, with what it was.
    `create table webhook_checkpoint (
       subscription_id text    primary key,
       position        integer not null check (position >= 0)
     ) strict;
     create table webhook_dead_letters (
       seq             integer primary key,
       subscription_id text    not null,
       webhook_id      text    not null,
       position        integer not null,
       body            text    not null,
       attempts        integer not null,
       last_error      text    not null,
       failed_at       text    not null
     ) strict;
     create index webhook_dead_letters_by_subscription on webhook_dead_letters (subscription_id, seq);`,
    // 6: `ledger webhooks replay` asks a subscription's consumer, in this process or a running
    // serve, to deliver again from a position: one pending request per subscription, which the
    // consumer takes (moving its checkpoint back, the one way it ever moves back) and deletes.
    `create table webhook_replays (
       subscription_id text    primary key,
       from_position   integer not null check (from_position >= 0),
       requested_at    text    not null
     ) strict;`,
  ],
};
