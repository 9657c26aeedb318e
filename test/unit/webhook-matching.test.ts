import t from 'tap';
import { matches, type SessionChange } from '../../src/reactions/matching.js';

const change = (over: Partial<SessionChange> = {}): SessionChange => ({ eventType: 'CredentialsStored', before: 'pending', after: 'completed', provider: 'gemini', ...over });

t.test('no filter: every status change, and nothing else', async (t) => {
  t.ok(matches({}, change()), 'pending → completed');
  t.ok(matches({}, change({ eventType: 'SessionFailed', after: 'failed' })), 'pending → failed');
  t.ok(matches({}, change({ eventType: 'CredentialsStored', before: 'failed', after: 'completed' })), 'failed → completed (a late credential)');
  t.notOk(matches({}, change({ eventType: 'VmDestroyed', before: 'completed', after: 'completed' })), 'no change of status');
  t.notOk(matches({}, change({ eventType: 'SessionStarted', before: null, after: 'pending' })), "a session's start is no change");
});

t.test('statuses: a change to one of them', async (t) => {
  const filters = { statuses: ['failed' as const, 'cancelled' as const] };
  t.notOk(matches(filters, change()), 'completed is not asked for');
  t.ok(matches(filters, change({ eventType: 'SessionFailed', after: 'failed' })));
  t.ok(matches(filters, change({ eventType: 'SessionCancelled', after: 'cancelled' })));
  t.notOk(matches(filters, change({ eventType: 'SessionFailed', before: 'failed', after: 'failed' })), 'failed again is no change');
});

t.test('eventTypes: those events, whether or not the status changed; and no other change', async (t) => {
  const filters = { eventTypes: ['VmDestroyed' as const] };
  t.ok(matches(filters, change({ eventType: 'VmDestroyed', before: 'completed', after: 'completed' })), 'same status');
  t.ok(matches(filters, change({ eventType: 'VmDestroyed', before: 'pending', after: 'failed' })), 'a change too');
  t.notOk(matches(filters, change()), 'another event changing the status is not asked for');
  t.ok(matches({ eventTypes: ['SessionStarted'] }, change({ eventType: 'SessionStarted', before: null, after: 'pending' })), 'a start, when asked for');
});

t.test('statuses and eventTypes together: either', async (t) => {
  const filters = { statuses: ['completed' as const], eventTypes: ['VmDestroyed' as const] };
  t.ok(matches(filters, change()));
  t.ok(matches(filters, change({ eventType: 'VmDestroyed', before: 'completed', after: 'completed' })));
  t.notOk(matches(filters, change({ eventType: 'SessionFailed', after: 'failed' })));
});

t.test("providers narrows every other filter to the sessions of those providers", async (t) => {
  t.ok(matches({ providers: ['gemini'] }, change()));
  t.notOk(matches({ providers: ['codex'] }, change()));
  t.notOk(matches({ providers: ['codex'], eventTypes: ['CredentialsStored'] }, change()));
  t.notOk(matches({ providers: ['gemini'] }, change({ provider: null })), 'a session with no provider known yet');
});
