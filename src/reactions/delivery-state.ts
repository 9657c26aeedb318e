import type Database from 'better-sqlite3';
import { migrate } from '../store/sqlite/migrations.js';
import { readModelSchema } from '../projector/read-model-schema.js';

/** A message that failed every attempt, as the dead-letter table keeps it. */
export interface DeadLetter {
  subscriptionId: string;
  webhookId: string;
  position: bigint;
  body: string;
  attempts: number;
  lastError: string;
  failedAt: string;
}

/** The webhook consumers' checkpoints and dead letters, in the read-model database. */
export interface DeliveryState {
  checkpoint(subscriptionId: string): bigint;
  moveCheckpoint(subscriptionId: string, position: bigint): void;
  /** Records the dead letter and moves the checkpoint past it, in one transaction. */
  deadLetter(letter: DeadLetter): void;
  deadLetterCount(subscriptionId: string): number;
  /** Every dead letter, oldest first (all subscriptions, configured or no longer). */
  deadLetters(): DeadLetter[];
  /** The dead letter of a `webhook-id`; null when there is none. */
  deadLetterOf(webhookId: string): DeadLetter | null;
  /** Removes a dead letter once it is delivered; false when it was already gone. */
  removeDeadLetter(webhookId: string): boolean;
  /** Asks the subscription's consumer to deliver again every wanted change after `from` (a later request replaces it). */
  requestReplay(subscriptionId: string, from: bigint, requestedAt: string): void;
  /** Whether a replay is asked for and not yet taken: cheap, so a consumer checks it at each message. */
  replayPending(subscriptionId: string): boolean;
  /**
   * Takes the pending replay, if any: the checkpoint is set to its position (backwards, the
   * one path that may) and the request deleted, in one transaction. Null when none was asked.
   */
  takeReplay(subscriptionId: string): bigint | null;
}

const DEAD_LETTER_COLUMNS = 'subscription_id, webhook_id, position, body, attempts, last_error, failed_at';

interface DeadLetterRow {
  subscription_id: string;
  webhook_id: string;
  position: bigint;
  body: string;
  attempts: bigint;
  last_error: string;
  failed_at: string;
}

const deadLetterOfRow = (row: DeadLetterRow): DeadLetter => ({
  subscriptionId: row.subscription_id,
  webhookId: row.webhook_id,
  position: row.position,
  body: row.body,
  attempts: Number(row.attempts),
  lastError: row.last_error,
  failedAt: row.failed_at,
});

export function openDeliveryState(db: Database.Database): DeliveryState {
  migrate(db, readModelSchema);
  const selectCheckpoint = db.prepare<[string], bigint>('select position from webhook_checkpoint where subscription_id = ?').pluck().safeIntegers(true);
  const upsertCheckpoint = db.prepare<[string, bigint]>(
    // Never backwards: a consumer restarted from an older reading does not undo a later one.
    `insert into webhook_checkpoint (subscription_id, position) values (?, ?)
     on conflict (subscription_id) do update set position = max(position, excluded.position)`,
  );
  const insertDeadLetter = db.prepare<[string, string, bigint, string, number, string, string]>(
    `insert into webhook_dead_letters (subscription_id, webhook_id, position, body, attempts, last_error, failed_at)
     values (?, ?, ?, ?, ?, ?, ?)`,
  );
  const countDeadLetters = db.prepare<[string], number>('select count(*) from webhook_dead_letters where subscription_id = ?').pluck().safeIntegers(false);
  const deadLetterAndMove = db.transaction((letter: DeadLetter) => {
    insertDeadLetter.run(letter.subscriptionId, letter.webhookId, letter.position, letter.body, letter.attempts, letter.lastError, letter.failedAt);
    upsertCheckpoint.run(letter.subscriptionId, letter.position);
  });
  const selectDeadLetters = db.prepare<[], DeadLetterRow>(`select ${DEAD_LETTER_COLUMNS} from webhook_dead_letters order by seq`).safeIntegers(true);
  const selectDeadLetter = db.prepare<[string], DeadLetterRow>(`select ${DEAD_LETTER_COLUMNS} from webhook_dead_letters where webhook_id = ? order by seq limit 1`).safeIntegers(true);
  const deleteDeadLetter = db.prepare<[string]>('delete from webhook_dead_letters where webhook_id = ?');
  const upsertReplay = db.prepare<[string, bigint, string]>(
    `insert into webhook_replays (subscription_id, from_position, requested_at) values (?, ?, ?)
     on conflict (subscription_id) do update set from_position = excluded.from_position, requested_at = excluded.requested_at`,
  );
  const selectReplay = db.prepare<[string], bigint>('select from_position from webhook_replays where subscription_id = ?').pluck().safeIntegers(true);
  const deleteReplay = db.prepare<[string]>('delete from webhook_replays where subscription_id = ?');
  // Not the upsert's max: a replay moves the checkpoint back on purpose.
  const setCheckpoint = db.prepare<[string, bigint]>(
    `insert into webhook_checkpoint (subscription_id, position) values (?, ?)
     on conflict (subscription_id) do update set position = excluded.position`,
  );
  const takeReplay = db.transaction((subscriptionId: string): bigint | null => {
    const from = selectReplay.get(subscriptionId);
    if (from === undefined) return null;
    setCheckpoint.run(subscriptionId, from);
    deleteReplay.run(subscriptionId);
    return from;
  });
  return {
    checkpoint: (subscriptionId) => selectCheckpoint.get(subscriptionId) ?? 0n,
    moveCheckpoint: (subscriptionId, position) => void upsertCheckpoint.run(subscriptionId, position),
    deadLetter: (letter) => deadLetterAndMove(letter),
    deadLetterCount: (subscriptionId) => countDeadLetters.get(subscriptionId) ?? 0,
    deadLetters: () => selectDeadLetters.all().map(deadLetterOfRow),
    deadLetterOf: (webhookId) => {
      const row = selectDeadLetter.get(webhookId);
      return row === undefined ? null : deadLetterOfRow(row);
    },
    removeDeadLetter: (webhookId) => deleteDeadLetter.run(webhookId).changes > 0,
    requestReplay: (subscriptionId, from, requestedAt) => void upsertReplay.run(subscriptionId, from, requestedAt),
    replayPending: (subscriptionId) => selectReplay.get(subscriptionId) !== undefined,
    takeReplay: (subscriptionId) => takeReplay(subscriptionId),
  };
}
