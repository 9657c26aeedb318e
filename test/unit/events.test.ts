import t from 'tap';
import { EventId } from '../../src/contract/index.js';
import {
  categoryOf,
  derivedEventId,
  eventTypes,
  InvalidEventError,
  ledgerEventCodec,
  sessionIdOfStream,
  sessionStreamName,
  UndecodableEventError,
  UnknownEventTypeError,
  type StoredEvent,
} from '../../src/events/index.js';
import { fact, newEvent, newSessionStarted } from '../support/events.js';

const prepareError = (event: unknown) => {
  try {
    ledgerEventCodec.prepare(event);
  } catch (error) {
    return error;
  }
  return undefined;
};

t.test('each of the six events, with valid data, is accepted and stamped with its schema version', async (t) => {
  t.same(eventTypes, ['SessionStarted', 'CredentialsStored', 'VmDestroyed', 'SessionFailed', 'SessionCancelled', 'SessionExpired']);
  for (const type of eventTypes) {
    const event = newEvent(fact(type, 'session-1'));
    const prepared = ledgerEventCodec.prepare(event);
    t.equal(prepared.type, type);
    t.same(prepared.data, event.data);
    t.same(prepared.metadata, { ...event.metadata, schemaVersion: 1 });
    t.same(JSON.parse(prepared.dataJson), event.data);
  }
});

t.test('unknown keys are rejected everywhere, with the path named', async (t) => {
  const event = newSessionStarted('session-1');
  const cases: Array<[string, unknown, string]> = [
    ['an access token in data', { ...event, data: { ...event.data, accessToken: 'ya29.a0AfH6' } }, 'data'],
    ['a refresh token beside the event', { ...event, refreshToken: '1//0g' }, ''],
    ['a secret in metadata', { ...event, metadata: { ...event.metadata, password: 'hunter2' } }, 'metadata'],
    ['a key in the actor', { ...event, metadata: { ...event.metadata, actor: { ...event.metadata.actor, token: 'x' } } }, 'metadata.actor'],
  ];
  for (const [what, bad, path] of cases) {
    const error = prepareError(bad);
    t.type(error, InvalidEventError, what);
    t.match((error as InvalidEventError).issues, [{ path, message: /Unrecognized key/ }], what);
  }
});

t.test('a W3C traceparent is kept in the metadata, as written', async (t) => {
  const started = newSessionStarted('session-1');
  const traceparent = `00-${'0af7651916cd43dd8448eb211c80319c'}-${'b7ad6b7169203331'}-01`;
  const prepared = ledgerEventCodec.prepare({ ...started, metadata: { ...started.metadata, traceparent } });
  t.equal(prepared.metadata.traceparent, traceparent);
  t.match(prepared.metadataJson, `"traceparent":"${traceparent}"`, 'in the JSON the hash covers');
});

t.test('field rules', async (t) => {
  const started = newSessionStarted('session-1');
  const withData = (data: Record<string, unknown>) => ({ ...started, data: { ...started.data, ...data } });
  const invalid: Array<[string, unknown]> = [
    ['a provider that is not a slug', withData({ provider: 'Gemini Pro' })],
    ['a session id with a slash', withData({ sessionId: 'a/b' })],
    ['an empty user id', withData({ userId: '' })],
    ['an expiry that is not a timestamp', withData({ expiresAt: 'tomorrow' })],
    ['a non-UUID event id', { ...started, eventId: '42' }],
    ['an unknown role', { ...started, metadata: { ...started.metadata, actor: { role: 'root', sub: 'x' } } }],
    ['a traceparent that is not W3C', { ...started, metadata: { ...started.metadata, traceparent: 'Bearer eyJhbGciOi' } }],
    ['a traceparent in capitals', { ...started, metadata: { ...started.metadata, traceparent: `00-${'AB'.repeat(16)}-${'cd'.repeat(8)}-01` } }],
    ['not an object', 'SessionStarted'],
  ];
  for (const [what, event] of invalid) t.type(prepareError(event), InvalidEventError, what);
  const unknown = prepareError({ ...started, type: 'CredentialsLeaked' });
  t.type(unknown, UnknownEventTypeError);
  t.equal((unknown as UnknownEventTypeError).type, 'CredentialsLeaked');
  t.type(prepareError({ ...started, type: 'toString' }), UnknownEventTypeError, 'an inherited property is not an event type');
});

t.test('decoding refuses what it cannot read, naming the event', async (t) => {
  const prepared = ledgerEventCodec.prepare(newSessionStarted('session-1'));
  const stored: StoredEvent = {
    eventId: prepared.eventId,
    streamName: 'authSession-session-1',
    revision: 3n,
    position: 9n,
    type: prepared.type,
    dataJson: prepared.dataJson,
    metadataJson: prepared.metadataJson,
    hash: null,
  };
  t.match(ledgerEventCodec.decode(stored), { type: 'SessionStarted', revision: 3n, position: 9n, data: prepared.data });
  const cases: Array<[string, Partial<StoredEvent>, RegExp]> = [
    ['an unknown stored type', { type: 'SessionHijacked' }, /unknown event type/],
    ['data that is not JSON', { dataJson: '{' }, /not JSON/],
    ['data that is not an object', { dataJson: '"text"' }, /not an object/],
    ['data failing the schema', { dataJson: '{"sessionId":"session-1"}' }, /data:/],
    ['metadata failing the schema', { metadataJson: '{}' }, /metadata:/],
    ['a newer schema version', { metadataJson: JSON.stringify({ ...prepared.metadata, schemaVersion: 2 }) }, /newer than this ledger/],
  ];
  for (const [what, change, message] of cases) {
    t.throws(() => ledgerEventCodec.decode({ ...stored, ...change }), UndecodableEventError, what);
    t.throws(() => ledgerEventCodec.decode({ ...stored, ...change }), { message, streamName: stored.streamName, revision: 3n }, what);
  }
});

t.test('stream names', async (t) => {
  t.equal(sessionStreamName('abc'), 'authSession-abc');
  t.equal(categoryOf('authSession-abc-def'), 'authSession', 'the category ends at the first dash');
  t.equal(categoryOf('noDash'), 'noDash');
  t.equal(sessionIdOfStream('authSession-abc-def'), 'abc-def');
  t.equal(sessionIdOfStream('otherCategory-abc'), null);
});

t.test('derived event ids are stable, distinct and valid UUIDs', async (t) => {
  const id = derivedEventId('expire/session-1');
  t.equal(derivedEventId('expire/session-1'), id, 'the same name gives the same id');
  t.not(derivedEventId('expire/session-2'), id);
  t.ok(EventId.safeParse(id).success, id);
  t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'version 5, RFC variant');
});
