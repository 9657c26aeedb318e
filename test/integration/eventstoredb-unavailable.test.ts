/**
 * A lost connection to EventStoreDB: the call after a drop is made again on a new connection,
 * and a store that stays out of reach is reported as such (503 on the HTTP API), not as an
 * internal error.
 */
import { UnavailableError } from '@eventstore/db-client';
import t from 'tap';
import { ProblemJson, StartedJson } from '../../src/contract/index.js';
import { sessionStreamName } from '../../src/events/index.js';
import { StoreUnavailableError } from '../../src/store/errors.js';
import { openEventStoreDbStore } from '../../src/store/eventstoredb/index.js';
import { startEsdbEmulator } from '../emulator/esdb-emulator.js';
import { newCredentialsStored, newSessionStarted } from '../support/events.js';
import { startLedger } from '../support/ledger-server.js';

/** The members of a JSON log line that this test reads. */
interface LogLine {
  msg?: string;
  level?: number;
}

t.test('the first calls after a dropped connection reach the server on a new one', async (t) => {
  const emulator = await startEsdbEmulator();
  const store = openEventStoreDbStore({ connectionString: emulator.connectionString });
  t.teardown(async () => {
    await store.close();
    await emulator.stop();
  });
  const first = await store.append(sessionStreamName('s1'), [newSessionStarted('s1')]);

  // Each kind of call right after a drop, through the same client: a ledger instance has one.
  await emulator.dropConnections();
  const credentials = newCredentialsStored('s1');
  const second = await store.append(sessionStreamName('s1'), [credentials]);
  t.equal(second.revision, 1n, 'the append after the drop is recorded');
  await emulator.dropConnections();
  t.equal((await store.readStream(sessionStreamName('s1'))).length, 2, 'a stream read after a drop');
  await emulator.dropConnections();
  t.same((await store.readAll()).map((event) => event.position), [first.position, second.position], 'a read of $all after a drop');
  await emulator.dropConnections();
  t.equal(await store.lastPosition(), second.position, 'lastPosition after a drop');
  await emulator.dropConnections();
  const again = await store.append(sessionStreamName('s1'), [credentials]);
  t.same(again, { ...second, alreadyRecorded: true }, 'a retried append after a drop is recognised, not doubled');
});

t.test('a store that stays out of reach is StoreUnavailableError, after the calls the policy allows', async (t) => {
  const emulator = await startEsdbEmulator();
  const store = openEventStoreDbStore({ connectionString: emulator.connectionString, reconnect: { attempts: 2, delayMs: 10 } });
  t.teardown(() => store.close());
  await store.append(sessionStreamName('s1'), [newSessionStarted('s1')]);
  await emulator.stop();

  const calls: Array<[string, () => Promise<unknown>]> = [
    ['append', () => store.append(sessionStreamName('s1'), [newCredentialsStored('s1')])],
    ['readStream', () => store.readStream(sessionStreamName('s1'))],
    ['readAll', () => store.readAll()],
    ['lastPosition', () => store.lastPosition()],
  ];
  for (const [name, call] of calls) {
    const error = await call().then(
      () => null,
      (failure: unknown) => failure,
    );
    t.type(error, StoreUnavailableError, `${name}: reported unavailable`);
    t.type((error as Error).cause, UnavailableError, `${name}: with the client's error as the cause`);
  }
});

t.test('a reconnect policy that could never call is refused', async (t) => {
  for (const reconnect of [{ attempts: 0, delayMs: 10 }, { attempts: 1.5, delayMs: 10 }, { attempts: 2, delayMs: -1 }, { attempts: 2, delayMs: Number.NaN }]) {
    t.throws(() => openEventStoreDbStore({ connectionString: 'esdb://127.0.0.1:1?tls=false', reconnect }), RangeError, JSON.stringify(reconnect));
  }
});

t.test('over HTTP, an unreachable store answers 503 problem+json with Retry-After, and says why in the log', async (t) => {
  const emulator = await startEsdbEmulator();
  const ledger = await startLedger({ eventStoreDb: { connectionString: emulator.connectionString, reconnect: { attempts: 2, delayMs: 10 } } });
  t.teardown(() => ledger.close());
  const started = await ledger.call('POST', '/v1/sessions', {
    token: ledger.controller,
    body: { userId: 'user-1', provider: 'gemini', browserVmId: 'vm-1' },
  });
  t.equal(started.status, 201);
  const { sessionId } = StartedJson.parse(started.body);
  await emulator.stop();

  const eventId = ledger.newEventId();
  const append = await ledger.call('POST', `/v1/sessions/${sessionId}/events`, {
    token: ledger.controller,
    body: { type: 'SessionFailed', eventId, data: { sessionId, reason: 'oauth-error', errorMessage: 'denied' } },
  });
  t.equal(append.status, 503);
  t.match(append.type, 'application/problem+json');
  t.equal(append.headers.get('retry-after'), '1');
  t.match(append.body, { type: 'https://session-ledger.dev/problems/unavailable', status: 503, detail: /not reachable; retry with the same eventId/ });
  const ready = await ledger.call('GET', '/readyz');
  t.equal(ready.status, 503, 'not ready either');
  t.match(ProblemJson.parse(ready.body).detail, /^the event store is not reachable: \d+ UNAVAILABLE/, 'with the reason the client gave');
  const warning = ledger.logs.map((line) => JSON.parse(line) as LogLine).find((line) => line.msg === 'the event store is not reachable');
  t.ok(warning, 'the operator sees why');
  t.equal(warning?.level, 40, 'as a warning');
  t.notMatch(ledger.logs.join('\n'), ledger.controller, 'and never the token');
});
