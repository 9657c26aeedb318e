import t from 'tap';
import {
  IMPORT_ACTOR,
  importEventId,
  legacyRowEvents,
  legacyTimestamp,
  NO_ERROR_MESSAGE,
  type LegacyRowEvents,
} from '../../src/audit/import-legacy.js';
import type { LegacyValues } from '../../src/audit/legacy-rows.js';
import { DEFAULT_SESSION_TTL_MS } from '../../src/contract/index.js';

const row = (overrides: Partial<LegacyValues> = {}): LegacyValues => ({
  session_id: 's-1',
  user_id: 'user-1',
  provider: 'gemini',
  browser_vm_id: 'vm-1',
  status: 'pending',
  completed_at: null,
  error_message: null,
  created_at: '2024-03-01 12:00:00.250+00',
  updated_at: '2024-03-01 12:05:00+00',
  ...overrides,
});

function events(mapped: LegacyRowEvents) {
  if (!mapped.ok) throw new Error(`refused: ${mapped.reason}`);
  return mapped.events;
}

function reason(mapped: LegacyRowEvents) {
  if (mapped.ok) throw new Error('expected a refusal');
  return mapped.reason;
}

t.test('pending: SessionStarted alone, recorded at created_at, expiring a TTL later', async (t) => {
  const mapped = legacyRowEvents(row({ updated_at: null }));
  t.match(mapped, { ok: true, sessionId: 's-1', status: 'pending' });
  t.same(events(mapped), [
    {
      type: 'SessionStarted',
      eventId: importEventId('s-1', 'SessionStarted'),
      data: { sessionId: 's-1', userId: 'user-1', provider: 'gemini', browserVmId: 'vm-1', expiresAt: '2024-03-01T12:15:00.250Z' },
      metadata: { actor: IMPORT_ACTOR, recordedAt: '2024-03-01T12:00:00.250Z', correlationId: 'legacy:s-1' },
    },
  ]);
  t.equal(Date.parse('2024-03-01T12:15:00.250Z') - Date.parse('2024-03-01T12:00:00.250Z'), DEFAULT_SESSION_TTL_MS);
  t.same(IMPORT_ACTOR, { role: 'ledger', sub: 'import-legacy' });
});

t.test('completed: CredentialsStored with a legacy credential reference, at completed_at, else updated_at', async (t) => {
  const [started, stored, ...rest] = events(legacyRowEvents(row({ status: 'completed', completed_at: '2024-03-01 12:03:00+00' })));
  t.equal(started!.type, 'SessionStarted');
  t.same(stored, {
    type: 'CredentialsStored',
    eventId: importEventId('s-1', 'CredentialsStored'),
    data: { sessionId: 's-1', provider: 'gemini', credentialRef: 'legacy:s-1' },
    metadata: { actor: IMPORT_ACTOR, recordedAt: '2024-03-01T12:03:00.000Z', correlationId: 'legacy:s-1' },
  });
  t.same(rest, []);

  const fallback = events(legacyRowEvents(row({ status: 'completed', completed_at: null })));
  t.equal(fallback[1]!.metadata.recordedAt, '2024-03-01T12:05:00.000Z', 'NULL completed_at: updated_at');
  t.match(reason(legacyRowEvents(row({ status: 'completed', completed_at: null, updated_at: null }))), 'completed_at and updated_at are both missing');
  t.match(
    reason(legacyRowEvents(row({ status: 'completed', completed_at: '' }))),
    'completed_at "" is not a timestamp',
    'an empty string is not NULL: no fallback',
  );
  t.match(reason(legacyRowEvents(row({ status: 'completed', completed_at: null, updated_at: 'soon' }))), 'updated_at "soon" is not a timestamp');
});

t.test('failed: SessionFailed with the row error_message, at updated_at; NULL and "" get a stated message', async (t) => {
  const message = 'provider said: "invalid_grant",\nretry later';
  const [, failed] = events(legacyRowEvents(row({ status: 'failed', error_message: message })));
  t.same(failed, {
    type: 'SessionFailed',
    eventId: importEventId('s-1', 'SessionFailed'),
    data: { sessionId: 's-1', reason: 'legacy', errorMessage: message },
    metadata: { actor: IMPORT_ACTOR, recordedAt: '2024-03-01T12:05:00.000Z', correlationId: 'legacy:s-1' },
  });
  for (const missing of [null, '']) {
    const [, noMessage] = events(legacyRowEvents(row({ status: 'failed', error_message: missing })));
    t.same(noMessage!.data, { sessionId: 's-1', reason: 'legacy', errorMessage: NO_ERROR_MESSAGE }, `error_message ${JSON.stringify(missing)}`);
  }
  t.equal(NO_ERROR_MESSAGE, 'failed (the legacy row has no error message)');
  t.match(reason(legacyRowEvents(row({ status: 'failed', updated_at: null }))), 'updated_at is missing');
  t.match(
    reason(legacyRowEvents(row({ status: 'failed', error_message: 'x'.repeat(2001) }))),
    /^SessionFailed refused: invalid event: data\.errorMessage: /,
    'a value the schema refuses is named with the codec message',
  );
});

t.test('cancelled: SessionCancelled by the row user, at updated_at', async (t) => {
  const [, cancelled, ...rest] = events(legacyRowEvents(row({ status: 'cancelled', error_message: '' })));
  t.same(cancelled, {
    type: 'SessionCancelled',
    eventId: importEventId('s-1', 'SessionCancelled'),
    data: { sessionId: 's-1', cancelledBy: 'user-1' },
    metadata: { actor: IMPORT_ACTOR, recordedAt: '2024-03-01T12:05:00.000Z', correlationId: 'legacy:s-1' },
  });
  t.same(rest, []);
  t.match(reason(legacyRowEvents(row({ status: 'cancelled', updated_at: '' }))), 'updated_at "" is not a timestamp');
});

t.test('ids come from the row: the same row maps to the same events, another session to others', async (t) => {
  const once = legacyRowEvents(row({ status: 'failed', error_message: 'boom' }));
  t.same(legacyRowEvents(row({ status: 'failed', error_message: 'boom' })), once);
  const other = events(legacyRowEvents(row({ session_id: 's-2', status: 'failed' })));
  t.not(other[0]!.eventId, events(once)[0]!.eventId);
  t.match(events(once)[0]!.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

t.test('rows that cannot be explained say why', async (t) => {
  t.same(legacyRowEvents(row({ session_id: null })), { ok: false, sessionId: null, reason: 'session_id is missing' });
  t.same(legacyRowEvents(row({ session_id: '' })), { ok: false, sessionId: null, reason: 'session_id is missing' });
  t.same(legacyRowEvents(row({ status: null })), { ok: false, sessionId: 's-1', reason: 'status is missing' });
  t.match(reason(legacyRowEvents(row({ status: 'expired' }))), 'unknown status "expired" (expected pending, completed, failed, cancelled)');
  t.match(reason(legacyRowEvents(row({ status: 'Completed' }))), 'unknown status "Completed"', 'statuses are exact');
  t.match(reason(legacyRowEvents(row({ created_at: null }))), 'created_at is missing');
  t.match(reason(legacyRowEvents(row({ created_at: '2024-02-30 12:00:00+00' }))), 'created_at "2024-02-30 12:00:00+00" is not a timestamp');
  t.match(reason(legacyRowEvents(row({ user_id: null }))), /^SessionStarted refused: invalid event: data\.userId: .*received null/);
  t.match(reason(legacyRowEvents(row({ user_id: '' }))), /^SessionStarted refused: invalid event: data\.userId: Too small/, '"" is a value, refused as one');
  t.match(reason(legacyRowEvents(row({ browser_vm_id: null }))), /data\.browserVmId/);
  t.match(reason(legacyRowEvents(row({ provider: 'Gemini' }))), /data\.provider: a lower-case provider slug/);
  t.match(reason(legacyRowEvents(row({ session_id: 'has space' }))), /data\.sessionId/);
  t.match(
    reason(legacyRowEvents(row({ status: 'cancelled', user_id: null }))),
    /^SessionStarted refused/,
    'the first refused event is named',
  );
});

t.test('timestamps: psql timestamptz text and ISO 8601, normalised to toISOString()', async (t) => {
  const cases: [string, string][] = [
    ['2024-03-01 12:34:56.789+00', '2024-03-01T12:34:56.789Z'],
    ['2024-03-01 12:34:56+00', '2024-03-01T12:34:56.000Z'],
    ['2024-03-01 12:34:56.789123+00', '2024-03-01T12:34:56.789Z'], // microseconds truncated, not rounded
    ['2024-03-01 12:34:56.9999+00', '2024-03-01T12:34:56.999Z'],
    ['2024-03-01 12:34:56.5+00', '2024-03-01T12:34:56.500Z'],
    ['2024-03-01 18:04:56.789+05:30', '2024-03-01T12:34:56.789Z'],
    ['2024-03-01 18:04:56+0530', '2024-03-01T12:34:56.000Z'],
    ['2024-03-01 09:34:56-03', '2024-03-01T12:34:56.000Z'],
    ['2024-03-01 01:00:00+02', '2024-02-29T23:00:00.000Z'], // across a leap day
    ['2024-03-01T12:34:56Z', '2024-03-01T12:34:56.000Z'],
    ['2024-03-01T12:34:56.789Z', '2024-03-01T12:34:56.789Z'],
    ['2024-03-01t12:34:56z', '2024-03-01T12:34:56.000Z'],
    ['2024-03-01T14:34:56+02:00', '2024-03-01T12:34:56.000Z'],
    ['2024-03-01 12:34:56', '2024-03-01T12:34:56.000Z'], // no offset: UTC
    ['2024-03-01T12:34:56.123456', '2024-03-01T12:34:56.123Z'],
    ['0099-01-01 00:00:00+00', '0099-01-01T00:00:00.000Z'], // not 1999: no two-digit-year guess
  ];
  for (const [text, iso] of cases) t.equal(legacyTimestamp(text), iso, text);
  for (const text of [
    '',
    'yesterday',
    '2024-03-01',
    '2024-02-30 00:00:00+00',
    '2023-02-29 00:00:00+00',
    '2024-13-01 00:00:00+00',
    '2024-03-01 24:00:00+00',
    '2024-03-01 12:60:00+00',
    '2024-03-01 12:00:60+00',
    '2024-03-01 12:00:00+16',
    '2024-03-01 12:00:00+05:60',
    ' 2024-03-01 12:00:00+00',
    '2024-03-01 12:00:00+00 ',
    '2024-03-01 12:00:00 BC',
    'infinity',
    '1709294400',
  ]) {
    t.equal(legacyTimestamp(text), null, JSON.stringify(text));
  }
});
