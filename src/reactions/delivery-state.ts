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
}

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
  return {
    checkpoint: (subscriptionId) => selectCheckpoint.get(subscriptionId) ?? 0n,
    moveCheckpoint: (subscriptionId, position) => void upsertCheckpoint.run(subscriptionId, position),
    deadLetter: (letter) => deadLetterAndMove(letter),
    deadLetterCount: (subscriptionId) => countDeadLetters.get(subscriptionId) ?? 0,
  };
}
