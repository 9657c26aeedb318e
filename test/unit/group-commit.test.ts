import t from 'tap';
import { GroupCommit, type Outcome } from '../../src/store/sqlite/group-commit.js';

/** A group commit whose syncs the test ends by hand, and the batch sizes it acknowledged. */
function heldGroup() {
  const syncs: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  const durable = () => new Promise<void>((resolve, reject) => syncs.push({ resolve, reject }));
  const committed: number[] = [];
  const group = new GroupCommit<string, string>({ commit, durable, weightOf: () => 1, maxRequests: 10, maxWeight: 10, onCommitted: (n) => committed.push(n) });
  return { syncs, committed, group };
}

/** Commits requests as their own value; a request 'conflict' fails alone. */
const commit = (batch: readonly string[]): Outcome<string>[] =>
  batch.map((request) => (request === 'conflict' ? { ok: false, error: new Error('conflict') } : { ok: true, value: request }));

const settledOf = <T>(promise: Promise<T>) => {
  const state: { outcome?: 'resolved' | 'rejected'; value?: unknown } = {};
  promise.then(
    (value) => Object.assign(state, { outcome: 'resolved', value }),
    (error: unknown) => Object.assign(state, { outcome: 'rejected', value: error }),
  );
  return state;
};

const turn = () => new Promise((resolve) => setImmediate(resolve));

t.test('a committed batch is answered only once it is durable', async (t) => {
  const { syncs, committed, group } = heldGroup();
  const a = settledOf(group.submit('a'));
  const conflict = settledOf(group.submit('conflict'));
  await turn();
  t.equal(syncs.length, 1, 'the batch committed and asked for its sync');
  t.same([a.outcome, conflict.outcome, committed], [undefined, undefined, []], 'nobody is answered before the sync');
  syncs[0]!.resolve();
  await turn();
  t.same([a.outcome, a.value], ['resolved', 'a']);
  t.equal(conflict.outcome, 'rejected', 'a conflict is still its own');
  t.same(committed, [1]);
});

t.test('a batch commits while the one before it syncs, and each is answered after its own sync', async (t) => {
  const { syncs, group } = heldGroup();
  const first = settledOf(group.submit('first'));
  await turn();
  const second = settledOf(group.submit('second'));
  await turn();
  t.equal(syncs.length, 2, 'the second batch did not wait for the first sync to commit');
  syncs[0]!.resolve();
  await turn();
  t.same([first.outcome, second.outcome], ['resolved', undefined]);
  syncs[1]!.resolve();
  await turn();
  t.equal(second.outcome, 'resolved');
});

t.test('a sync that fails fails every append its batch stored, with its error', async (t) => {
  const { syncs, committed, group } = heldGroup();
  const a = settledOf(group.submit('a'));
  const conflict = settledOf(group.submit('conflict'));
  await turn();
  const fault = new Error('EIO');
  syncs[0]!.reject(fault);
  await turn();
  t.same([a.outcome, a.value], ['rejected', fault]);
  t.equal((conflict.value as Error).message, 'conflict', 'an append that failed on its own keeps its reason');
  t.same(committed, [0], 'none acknowledged');
});
