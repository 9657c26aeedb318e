import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { fold } from '../../projections/index.js';
import { createCommandHandler } from '../../src/application/command-handler.js';
import { SessionAlreadyExistsError, SessionAlreadyTerminalError, type SessionCommand } from '../../src/decide/index.js';
import type { Actor } from '../../src/events/index.js';
import { EventIdConflictError, WrongExpectedRevisionError } from '../../src/store/errors.js';
import type { EventStore } from '../../src/store/port.js';
import { openSqliteEventStore } from '../../src/store/sqlite/index.js';
import { newVmDestroyed } from '../support/events.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-commands-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const controller: Actor = { role: 'controller', sub: 'vm-manager' };
const at = new Date('2030-01-01T12:00:00.000Z');
const clock = () => at;

function setup(t: { teardown(fn: () => unknown): void }) {
  const store = openSqliteEventStore({ path: join(dir, `${randomUUID()}.db`) });
  t.teardown(() => store.close());
  return { store, handle: createCommandHandler({ store, clock }) };
}

const startCommand = (sessionId: string): SessionCommand => ({
  type: 'StartSession',
  data: { sessionId, userId: 'user-1', provider: 'codex', browserVmId: 'vm-1', expiresAt: '2030-01-01T12:15:00.000Z' },
});
const credentials = (sessionId: string): SessionCommand => ({
  type: 'RecordFact',
  data: { fact: { type: 'CredentialsStored', data: { sessionId, provider: 'codex', credentialRef: 'cred-1' } } },
});
const vmDestroyed = (sessionId: string): SessionCommand => ({
  type: 'RecordFact',
  data: { fact: { type: 'VmDestroyed', data: { sessionId, vmId: 'vm-1', reason: 'clean-up' } } },
});
const envelope = (eventId = randomUUID()) => ({ eventId, actor: controller });

t.test('a command is decided, recorded with its metadata, and answers the resulting state', async (t) => {
  const { store, handle } = setup(t);
  const started = await handle(startCommand('s1'), { ...envelope(), causationId: 'http-request-1' });
  t.match(started, { revision: 0n, alreadyRecorded: false, state: { status: 'pending', userId: 'user-1' } });
  const [event] = await store.readStream('authSession-s1');
  t.same(event!.metadata, {
    actor: controller,
    recordedAt: at.toISOString(),
    correlationId: event!.eventId,
    causationId: 'http-request-1',
    schemaVersion: 1,
  }, 'the injected clock stamps recordedAt; the correlation defaults to the event id');
});

t.test('the bug this ledger ends: a VM clean-up after stored credentials leaves the session completed', async (t) => {
  const { handle } = setup(t);
  await handle(startCommand('s2'), envelope());
  t.equal((await handle(credentials('s2'), envelope())).state.status, 'completed');
  const destroyed = await handle(vmDestroyed('s2'), envelope());
  t.equal(destroyed.state.status, 'completed');
  t.equal(destroyed.state.vmDestroyedAt, at.toISOString(), 'the VM time is noted');
});

t.test('late credentials after the VM was destroyed still land and win', async (t) => {
  const { handle } = setup(t);
  await handle(startCommand('s3'), envelope());
  const failed = await handle(vmDestroyed('s3'), envelope());
  t.match(failed.state, { status: 'failed', failure: { errorMessage: 'VM destroyed before OAuth completion' } });
  const late = await handle(credentials('s3'), envelope());
  t.equal(late.state.status, 'completed');
  t.same(late.state.anomalies.map((a) => a.kind), ['completedAfterFailure']);
});

t.test('refused commands append nothing', async (t) => {
  const { store, handle } = setup(t);
  await handle(startCommand('s4'), envelope());
  await t.rejects(handle(startCommand('s4'), envelope()), SessionAlreadyExistsError);
  const cancel: SessionCommand = { type: 'CancelSession', data: { sessionId: 's4', cancelledBy: 'user-1' } };
  await handle(cancel, envelope());
  await t.rejects(handle(cancel, envelope()), SessionAlreadyTerminalError);
  t.equal((await store.readStream('authSession-s4')).length, 2);
});

t.test('a retried command is recorded once and answers the original result', async (t) => {
  const { store, handle } = setup(t);
  const start = envelope();
  const first = await handle(startCommand('s5'), start);
  const agentCall = envelope();
  const stored = await handle(credentials('s5'), agentCall);
  await handle(vmDestroyed('s5'), envelope());
  const startAgain = await handle(startCommand('s5'), start);
  t.match(startAgain, { revision: first.revision, position: first.position, alreadyRecorded: true }, 'a retried start is not a 409');
  const storedAgain = await handle(credentials('s5'), agentCall);
  t.match(storedAgain, { revision: stored.revision, position: stored.position, alreadyRecorded: true });
  t.equal(storedAgain.state.status, 'completed', 'answers the state just after the original event');
  t.equal((await store.readStream('authSession-s5')).length, 3);
  await t.rejects(handle(vmDestroyed('s5'), agentCall), EventIdConflictError, 'the same id for another fact is a conflict');
});

t.test('an expected revision the stream is not at is refused', async (t) => {
  const { store, handle } = setup(t);
  await handle(startCommand('s6'), envelope());
  const error = await handle(credentials('s6'), { ...envelope(), expectedRevision: 3n }).catch((e: unknown) => e);
  t.type(error, WrongExpectedRevisionError);
  t.equal((error as WrongExpectedRevisionError).current, 0n);
  t.match(await handle(credentials('s6'), { ...envelope(), expectedRevision: 0n }), { revision: 1n });
  t.equal((await store.readStream('authSession-s6')).length, 2);
});

t.test('when another writer appends between the read and the append, the command is decided again', async (t) => {
  const { store } = setup(t);
  let interleaved = false;
  // The real store, with one foreign append slipped in after the handler's first read.
  const racing: EventStore = {
    ...store,
    async readStream(streamName, options) {
      const events = await store.readStream(streamName, options);
      if (!interleaved && events.length === 1) {
        interleaved = true;
        await store.append(streamName, [newVmDestroyed('s7')]);
      }
      return events;
    },
  };
  const handle = createCommandHandler({ store: racing, clock });
  await handle(startCommand('s7'), envelope());
  const result = await handle(credentials('s7'), envelope());
  t.ok(interleaved);
  t.equal(result.revision, 2n, 'appended after the foreign event');
  t.same((await store.readStream('authSession-s7')).map((e) => e.type), ['SessionStarted', 'VmDestroyed', 'CredentialsStored']);
  t.equal(result.state.status, 'completed');
});

t.test('the state after a command is the state read, evolved by the appended fact: one read per command', async (t) => {
  const { store } = setup(t);
  let reads = 0;
  const counting: EventStore = {
    ...store,
    readStream: (streamName, options) => {
      reads++;
      return store.readStream(streamName, options);
    },
  };
  const handle = createCommandHandler({ store: counting, clock });
  await handle(startCommand('s8'), envelope());
  const stored = await handle(credentials('s8'), envelope());
  t.equal(reads, 2, 'one read of the stream per command, none after the append');
  t.strictSame(stored.state, fold(await store.readStream('authSession-s8')), 'the same state a fresh fold of the stream gives');
});

t.test('a retry whose first attempt lands between the read and the append answers the state as recorded', async (t) => {
  const { store } = setup(t);
  const handle = createCommandHandler({ store, clock: () => new Date('2030-01-01T12:05:00.000Z') });
  await handle(startCommand('s9'), envelope());
  const agentCall = envelope();
  let raced = false;
  // The first attempt of the same call, recorded by another instance at another time, just after this one read.
  const racing: EventStore = {
    ...store,
    async readStream(streamName, options) {
      const events = await store.readStream(streamName, options);
      if (!raced) {
        raced = true;
        await createCommandHandler({ store, clock })(credentials('s9'), agentCall);
      }
      return events;
    },
  };
  const retried = await createCommandHandler({ store: racing, clock: () => new Date('2030-01-01T12:09:00.000Z') })(credentials('s9'), agentCall);
  t.match(retried, { alreadyRecorded: true, recorded: false, revision: 1n });
  t.equal(retried.state.completedAt, at.toISOString(), "completed when the first attempt was recorded, not at the retry's time");
  t.equal((await store.readStream('authSession-s9')).length, 2);
});

t.test('a command that decides nothing appends nothing and answers the state as it is', async (t) => {
  const { store, handle } = setup(t);
  await handle(startCommand('s10'), envelope());
  await handle(credentials('s10'), envelope());
  const expire: SessionCommand = { type: 'ExpireSession', data: { sessionId: 's10', expiresAt: '2030-01-01T12:15:00.000Z' } };
  const before = await store.lastPosition();
  const result = await handle(expire, envelope());
  t.match(result, { type: null, recorded: false, alreadyRecorded: false, revision: 1n, position: before, state: { status: 'completed' } });
  t.equal(await store.lastPosition(), before, 'nothing appended');
});
