/**
 * The stored fold state is the text JSON.stringify with a bigint replacer wrote before the
 * projector stopped using one: rows written by either must read, and compare, the same. The
 * states come from the real fold, over random streams and over the odd ones (a failure kept
 * under a completion, anomalies, a stream with no start).
 */
import fc from 'fast-check';
import t from 'tap';
import { evolve, initialState, type SessionState } from '../../projections/index.js';
import { anomaliesFromJson, anomaliesToJson, foldStateFromJson, foldStateToJson } from '../../src/projector/fold-state-json.js';
import { historyArb } from '../support/arbitraries.js';
import { fact, history } from '../support/events.js';
import type { RecordedEvent } from '../../src/events/index.js';

/** How the read model wrote fold states and anomalies until now. */
const withReplacer = (value: unknown) => JSON.stringify(value, (_key, field: unknown) => (typeof field === 'bigint' ? field.toString() : field));

/** Every state the fold passes through on the way along `events`, the empty one first. */
function statesAlong(events: readonly RecordedEvent[]): SessionState[] {
  const states = [initialState];
  for (const event of events) states.push(evolve(states.at(-1)!, event));
  return states;
}

t.test('the same text as JSON.stringify with a bigint replacer, for every state of random streams', (t) => {
  fc.assert(
    fc.property(historyArb(), (events) => {
      for (const state of statesAlong(events)) {
        const json = foldStateToJson(state);
        if (json !== withReplacer(state)) throw new Error(`differs for ${withReplacer(state)}:\n${json}`);
        if (anomaliesToJson(state.anomalies) !== withReplacer(state.anomalies)) throw new Error(`anomalies differ: ${withReplacer(state.anomalies)}`);
        // A state read back keeps the stored key order, and is written back to the same text.
        if (foldStateToJson(foldStateFromJson(json)) !== json) throw new Error(`not the same after a round trip: ${json}`);
      }
    }),
    { numRuns: 300 },
  );
  t.pass('holds');
  t.end();
});

t.test('the odd states the fold keeps: failure, anomalies and null fields', (t) => {
  const cases: [string, RecordedEvent[]][] = [
    ['no event', []],
    [
      'failed, then completed: the failure kept, completedAfterFailure noted',
      history(fact('SessionStarted', 's-1'), fact('VmDestroyed', 's-1'), fact('CredentialsStored', 's-1'), fact('CredentialsStored', 's-1')),
    ],
    ['cancelled, then completed', history(fact('SessionStarted', 's-2'), fact('SessionCancelled', 's-2'), fact('CredentialsStored', 's-2'))],
    ['a fact before any start', history(fact('SessionFailed', 's-3'), fact('SessionStarted', 's-3'), fact('SessionExpired', 's-3'))],
  ];
  for (const [name, events] of cases) {
    const state = statesAlong(events).at(-1)!;
    const json = foldStateToJson(state);
    t.equal(json, withReplacer(state), name);
    t.same(foldStateFromJson(json), state, `${name}: read back as it was`);
    t.equal(anomaliesToJson(state.anomalies), withReplacer(state.anomalies), `${name}: its anomalies`);
    t.same(anomaliesFromJson(anomaliesToJson(state.anomalies)), state.anomalies, `${name}: its anomalies read back`);
  }
  const kept = statesAlong(cases[1]![1]).at(-1)!;
  t.equal(kept.status, 'completed', 'the case with a failure under a completion has both');
  t.not(kept.failure, null);
  t.ok(kept.anomalies.length >= 2, 'and its anomalies');
  t.end();
});
