/**
 * decide(command, state), as DESIGN.md says it: a writer's fact is always recorded, but a
 * user's intent can be refused. One table of given/when/then cases, then the rules around it.
 */
import t from 'tap';
import {
  SessionAlreadyExistsError,
  SessionAlreadyTerminalError,
  SessionNotFoundError,
  sessionDecider,
  type Decision,
  type DomainError,
  type RecordableFact,
  type SessionCommand,
} from '../../src/decide/index.js';
import { ledgerEventCodec, type EventData, type LedgerEvent } from '../../src/events/index.js';
import type { SessionStatus, TerminalStatus } from '../../projections/index.js';
import { given, type ErrorClass } from '../support/decider-spec.js';
import { defaultData, fact, newEvent } from '../support/events.js';

const SID = 'session-1';

// The session's provider is not the default one, so a provider taken from the start shows.
const start = fact('SessionStarted', SID, { provider: 'codex' });

/** A stream that brings a session to each status. */
const reach: Record<SessionStatus, LedgerEvent[]> = {
  pending: [start],
  completed: [start, fact('CredentialsStored', SID, { provider: 'codex' })],
  failed: [start, fact('VmDestroyed', SID)],
  cancelled: [start, fact('SessionCancelled', SID)],
};
const statuses = Object.keys(reach) as SessionStatus[];
const terminal: TerminalStatus[] = ['completed', 'failed', 'cancelled'];
/** A stream whose only event is a fact that arrived before its start. */
const early = [fact('CredentialsStored', SID)];
/** Every stream that exists, named as a test names it. */
const existing: [string, LedgerEvent[]][] = [
  ...statuses.map((status): [string, LedgerEvent[]] => [`a ${status} session`, reach[status]]),
  ['a stream whose only event came before its start', early],
];

// ---- the commands ----------------------------------------------------------------------------

const startData: EventData<'SessionStarted'> = { sessionId: SID, ...defaultData.SessionStarted };
const startSession: SessionCommand = { type: 'StartSession', data: startData };
const recordFact = (fact: RecordableFact): SessionCommand => ({ type: 'RecordFact', data: { fact } });
const completeLegacy: SessionCommand = {
  type: 'CompleteLegacySession',
  data: { sessionId: SID, credentialRef: 'cred-legacy' },
};
const cancel: SessionCommand = { type: 'CancelSession', data: { sessionId: SID, cancelledBy: 'user-1' } };
const expire: SessionCommand = {
  type: 'ExpireSession',
  data: { sessionId: SID, expiresAt: defaultData.SessionExpired.expiresAt },
};

/** The facts a writer reports. */
const writersFacts: RecordableFact[] = [
  fact('CredentialsStored', SID),
  fact('VmDestroyed', SID),
  fact('SessionFailed', SID),
];

// ---- the refusals ----------------------------------------------------------------------------

/** A refusal to expect: the error's class and the fields it carries, its message too (the 404's or 409's detail). */
interface Refusal {
  readonly error: ErrorClass<DomainError>;
  readonly match: Partial<DomainError>;
}

/** Checks `match` against the fields of the very class it is for. */
function refused<E extends DomainError>(error: ErrorClass<E>, match: Partial<E>): Refusal {
  return { error, match };
}

const notFound = refused(SessionNotFoundError, {
  sessionId: SID,
  code: 'session-not-found',
  name: 'SessionNotFoundError',
  message: `session ${SID} does not exist`,
});
const alreadyExists = (revision: bigint) =>
  refused(SessionAlreadyExistsError, {
    sessionId: SID,
    revision,
    code: 'session-already-exists',
    name: 'SessionAlreadyExistsError',
    message: `session ${SID} already exists (revision ${revision})`,
  });
const alreadyTerminal = (status: TerminalStatus) =>
  refused(SessionAlreadyTerminalError, {
    sessionId: SID,
    status,
    code: 'session-already-terminal',
    name: 'SessionAlreadyTerminalError',
    message: `session ${SID} is already ${status}`,
  });

// ---- the table -------------------------------------------------------------------------------

interface Case {
  readonly name: string;
  readonly given: LedgerEvent[];
  readonly when: SessionCommand;
  /** The events decided, or the refusal. */
  readonly then: Decision | Refusal;
}

const cases: Case[] = [
  // StartSession
  {
    name: 'starting a session on an empty stream records SessionStarted',
    given: [],
    when: startSession,
    then: [{ type: 'SessionStarted', data: startData }],
  },
  ...statuses.map((status): Case => ({
    name: `starting a session whose stream exists answers 409: a ${status} session`,
    given: reach[status],
    when: startSession,
    then: alreadyExists(BigInt(reach[status].length - 1)),
  })),
  {
    name: 'starting a session whose stream exists answers 409: any event makes it exist, even one before its start',
    given: early,
    when: startSession,
    then: alreadyExists(0n),
  },

  // RecordFact
  ...existing.flatMap(([stream, facts]) =>
    writersFacts.map((f): Case => ({
      name: `a writer's fact is always recorded: ${f.type} on ${stream}`,
      given: facts,
      when: recordFact(f),
      then: [f],
    })),
  ),
  ...writersFacts.map((f): Case => ({
    name: `a writer's fact for a session nobody started answers 404: ${f.type} on an empty stream`,
    given: [],
    when: recordFact(f),
    then: notFound,
  })),

  // CompleteLegacySession
  ...statuses.map((status): Case => ({
    name: `the legacy complete call records CredentialsStored with the session's own provider: a ${status} session`,
    given: reach[status],
    when: completeLegacy,
    then: [
      { type: 'CredentialsStored', data: { sessionId: SID, provider: 'codex', credentialRef: 'cred-legacy' } },
    ],
  })),
  {
    name: 'the legacy complete call answers 404 for an empty stream',
    given: [],
    when: completeLegacy,
    then: notFound,
  },
  {
    name: 'the legacy complete call answers 404 for a stream with no SessionStarted: there is no provider to take',
    given: early,
    when: completeLegacy,
    then: notFound,
  },

  // CancelSession
  {
    name: 'cancelling a pending session records SessionCancelled',
    given: reach.pending,
    when: cancel,
    then: [{ type: 'SessionCancelled', data: { sessionId: SID, cancelledBy: 'user-1' } }],
  },
  ...terminal.map((status): Case => ({
    name: `cancelling a session that is already terminal answers 409 and appends nothing: a ${status} session`,
    given: reach[status],
    when: cancel,
    then: alreadyTerminal(status),
  })),
  {
    name: 'cancelling a session whose stream has no events answers 404',
    given: [],
    when: cancel,
    then: notFound,
  },

  // ExpireSession
  {
    name: 'the deadline sweeper expires a pending session: SessionExpired',
    given: reach.pending,
    when: expire,
    then: [{ type: 'SessionExpired', data: { sessionId: SID, expiresAt: defaultData.SessionExpired.expiresAt } }],
  },
  ...terminal.map((status): Case => ({
    name: `the deadline sweeper records nothing for a ${status} session: it has nothing to expire`,
    given: reach[status],
    when: expire,
    then: [],
  })),
  {
    name: 'expiring a session whose stream has no events answers 404',
    given: [],
    when: expire,
    then: notFound,
  },
];

for (const { name, given: facts, when, then } of cases) {
  t.test(name, async (t) => {
    const decided = given(...facts).when(when);
    if (Array.isArray(then)) decided.then(t, then);
    else decided.thenRefuses(t, then.error, then.match);
  });
}

// ---- around the table ------------------------------------------------------------------------

t.test('a late CredentialsStored after VmDestroyed is decided as [CredentialsStored], and completes', async (t) => {
  const failed = given(start, fact('VmDestroyed', SID));
  t.equal(failed.state.status, 'failed');

  const late = fact('CredentialsStored', SID);
  failed.when(recordFact(late)).then(t, [late]);

  // Appended, it is the stream's next event.
  const { after } = failed.whenApplied(late);
  t.equal(after.status, 'completed', 'the credential wins');
  t.strictSame(
    after.anomalies.map((a) => a.kind),
    ['completedAfterFailure'],
  );
});

t.test('decide leaves the state alone', async (t) => {
  const { state } = given(...reach.pending);
  const before = structuredClone(state);
  for (const command of [cancel, recordFact(fact('CredentialsStored', SID)), completeLegacy, expire, startSession]) {
    try {
      sessionDecider.decide(command, state);
    } catch {
      // A refusal leaves it alone, too.
    }
  }
  t.strictSame(state, before);
});

t.test("decide's output passes the codec: the store would accept every event decided above", async (t) => {
  for (const { name, given: facts, when, then } of cases) {
    if (!Array.isArray(then)) continue;
    for (const event of sessionDecider.decide(when, given(...facts).state)) {
      t.doesNotThrow(() => ledgerEventCodec.prepare(newEvent(event)), `${event.type}, when ${name}`);
    }
  }
});
