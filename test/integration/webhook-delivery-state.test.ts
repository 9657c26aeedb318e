/**
 * The webhook consumers' state in a real read-model file: a normal checkpoint move never goes
 * back; a replay request is the one path that does, taken once, a later request replacing an
 * earlier one; and the dead letters are listed, found by `webhook-id` and removed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { openDeliveryState } from '../../src/reactions/delivery-state.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-delivery-state-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const db = new Database(join(dir, 'read-model.db'));
t.teardown(() => db.close());
const state = openDeliveryState(db);

t.test('a checkpoint moves forward only, but a replay takes it back once', async (t) => {
  state.moveCheckpoint('ops', 40n);
  state.moveCheckpoint('ops', 12n);
  t.equal(state.checkpoint('ops'), 40n, 'an older reading does not undo a later one');
  t.equal(state.takeReplay('ops'), null, 'nothing asked');
  t.notOk(state.replayPending('ops'));
  state.requestReplay('ops', 20n, '2026-12-05T10:00:00.000Z');
  state.requestReplay('ops', 7n, '2026-12-05T10:00:01.000Z');
  t.ok(state.replayPending('ops'));
  t.notOk(state.replayPending('pager'), "another subscription's is its own");
  t.equal(state.takeReplay('ops'), 7n, 'the later request replaced the earlier');
  t.equal(state.checkpoint('ops'), 7n, 'the checkpoint went back');
  t.equal(state.takeReplay('ops'), null, 'taken once');
  state.moveCheckpoint('ops', 9n);
  t.equal(state.checkpoint('ops'), 9n, 'and moves forward again from there');
  state.requestReplay('fresh', 3n, '2026-12-05T10:00:02.000Z');
  t.equal(state.takeReplay('fresh'), 3n);
  t.equal(state.checkpoint('fresh'), 3n, 'a subscription without a checkpoint gets one');
});

t.test('dead letters: listed oldest first, found by webhook-id, removed once', async (t) => {
  const letter = (webhookId: string, position: bigint) => ({
    subscriptionId: 'ops',
    webhookId,
    position,
    body: `{"n":${position}}`,
    attempts: 8,
    lastError: 'answered 500',
    failedAt: '2026-12-05T10:00:00.000Z',
  });
  state.deadLetter(letter('msg_a', 50n));
  state.deadLetter(letter('msg_b', 60n));
  t.same(state.deadLetters(), [letter('msg_a', 50n), letter('msg_b', 60n)]);
  t.equal(state.checkpoint('ops'), 60n, 'a dead letter moves the checkpoint past it');
  t.same(state.deadLetterOf('msg_b'), letter('msg_b', 60n));
  t.equal(state.deadLetterOf('msg_none'), null);
  t.ok(state.removeDeadLetter('msg_a'));
  t.notOk(state.removeDeadLetter('msg_a'), 'already gone');
  t.equal(state.deadLetterCount('ops'), 1);
});
