/**
 * The authorization rules (src/http/authorization.ts) as DESIGN.md's route table gives them:
 * every role against every action, each cell written out (allowed, or the 403's detail a
 * caller reads), not derived from the code. The HTTP tests show a refusal is a 403 problem;
 * this shows which ones are, and what they say.
 */
import t from 'tap';
import type { EventType } from '../../src/contract/index.js';
import { actorOf, authorize, authorizeFact, callerOf, visibilityOf, type Action } from '../../src/http/authorization.js';
import type { Principal } from '../../src/http/claims.js';
import { ProblemError } from '../../src/http/problem-error.js';

const controller: Principal = { role: 'controller', sub: 'vm-manager' };
const agent: Principal = { role: 'agent', sub: 'oauth-agent', sessionId: 'session-1' };
const frontend: Principal = { role: 'frontend', sub: 'web', userId: 'user-1' };
const auditor: Principal = { role: 'auditor', sub: 'audit-team' };
const principals = { controller, agent, frontend, auditor };
type Role = keyof typeof principals;

/** Allowed, or refused with this detail. */
const ALLOWED = null;
type Cell = typeof ALLOWED | string;

/** What one action answers each role. */
type Row = [what: string, action: Action, cells: Record<Role, Cell>];

const takes = (role: Role, what: string) => `a ${role} token cannot do this; it takes ${what}`;
const cannotRecord = (role: Role, type: EventType) => `a ${role} token cannot record ${type}`;

const rows: Row[] = [
  [
    'start a session',
    { kind: 'startSession' },
    { controller: ALLOWED, agent: takes('agent', 'a controller token'), frontend: takes('frontend', 'a controller token'), auditor: takes('auditor', 'a controller token') },
  ],
  [
    'report a destroyed VM',
    { kind: 'vmDestroyed' },
    { controller: ALLOWED, agent: takes('agent', 'a controller token'), frontend: takes('frontend', 'a controller token'), auditor: takes('auditor', 'a controller token') },
  ],
  [
    'record SessionStarted as a fact',
    { kind: 'record', type: 'SessionStarted' },
    {
      controller: 'sessions are started with POST /v1/sessions',
      agent: 'sessions are started with POST /v1/sessions',
      frontend: 'sessions are started with POST /v1/sessions',
      auditor: 'sessions are started with POST /v1/sessions',
    },
  ],
  [
    'record SessionExpired',
    { kind: 'record', type: 'SessionExpired' },
    {
      controller: 'SessionExpired is recorded by the ledger itself',
      agent: 'SessionExpired is recorded by the ledger itself',
      frontend: 'SessionExpired is recorded by the ledger itself',
      auditor: 'SessionExpired is recorded by the ledger itself',
    },
  ],
  [
    'record CredentialsStored',
    { kind: 'record', type: 'CredentialsStored' },
    { controller: ALLOWED, agent: ALLOWED, frontend: cannotRecord('frontend', 'CredentialsStored'), auditor: cannotRecord('auditor', 'CredentialsStored') },
  ],
  [
    'record SessionFailed',
    { kind: 'record', type: 'SessionFailed' },
    { controller: ALLOWED, agent: ALLOWED, frontend: cannotRecord('frontend', 'SessionFailed'), auditor: cannotRecord('auditor', 'SessionFailed') },
  ],
  [
    'record VmDestroyed',
    { kind: 'record', type: 'VmDestroyed' },
    { controller: ALLOWED, agent: cannotRecord('agent', 'VmDestroyed'), frontend: cannotRecord('frontend', 'VmDestroyed'), auditor: cannotRecord('auditor', 'VmDestroyed') },
  ],
  [
    'record SessionCancelled',
    { kind: 'record', type: 'SessionCancelled' },
    { controller: cannotRecord('controller', 'SessionCancelled'), agent: cannotRecord('agent', 'SessionCancelled'), frontend: ALLOWED, auditor: cannotRecord('auditor', 'SessionCancelled') },
  ],
  [
    'list sessions, naming no user',
    { kind: 'list', userId: undefined },
    { controller: ALLOWED, agent: 'an agent token reads its own session only', frontend: ALLOWED, auditor: ALLOWED },
  ],
  [
    "list the frontend's user's sessions",
    { kind: 'list', userId: 'user-1' },
    { controller: ALLOWED, agent: 'an agent token reads its own session only', frontend: ALLOWED, auditor: ALLOWED },
  ],
  [
    "list another user's sessions",
    { kind: 'list', userId: 'user-2' },
    { controller: ALLOWED, agent: 'an agent token reads its own session only', frontend: "a frontend token lists its own user's sessions only", auditor: ALLOWED },
  ],
  [
    'audit',
    { kind: 'audit' },
    { controller: takes('controller', 'an auditor token'), agent: takes('agent', 'an auditor token'), frontend: takes('frontend', 'an auditor token'), auditor: ALLOWED },
  ],
  ...(['stats', 'webhooks', 'watchAll', 'console'] as const).map(
    (kind): Row => [
      kind,
      { kind },
      { controller: ALLOWED, agent: takes('agent', 'an auditor or controller token'), frontend: takes('frontend', 'an auditor or controller token'), auditor: ALLOWED },
    ],
  ),
];

/** What authorize answers: null when it lets the call through, else the refusal's kind and detail. */
function outcome(run: () => unknown): { kind: string; detail: string } | null {
  try {
    run();
    return null;
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    return { kind: error.kind, detail: error.message };
  }
}

t.test('every role against every action, as the route table says', async (t) => {
  for (const [what, action, cells] of rows) {
    for (const [role, cell] of Object.entries(cells) as [Role, Cell][]) {
      const expected = cell === ALLOWED ? null : { kind: 'forbidden', detail: cell };
      t.same(outcome(() => authorize(principals[role], action)), expected, `${role}: ${what} → ${cell ?? 'allowed'}`);
    }
  }
});

t.test('a posted fact is checked as a record of its type, and handed back as it came', async (t) => {
  const posted = { type: 'CredentialsStored' as const, eventId: 'e-1', data: { credentialRef: 'cred-1' } };
  t.equal(authorizeFact(agent, posted), posted, 'allowed: the very object');
  t.same(outcome(() => authorizeFact(frontend, posted)), { kind: 'forbidden', detail: cannotRecord('frontend', 'CredentialsStored') });
  t.same(outcome(() => authorizeFact(controller, { type: 'SessionExpired' as const })), {
    kind: 'forbidden',
    detail: 'SessionExpired is recorded by the ledger itself',
  });
});

t.test("facts are recorded as the token's role and subject, nothing else of it", async (t) => {
  t.same(actorOf(agent), { role: 'agent', sub: 'oauth-agent' }, 'no session id');
  t.same(actorOf(frontend), { role: 'frontend', sub: 'web' }, 'no user id');
  t.same(callerOf(controller).actor, { role: 'controller', sub: 'vm-manager' });
});

t.test('which sessions a token sees: an agent its one, a frontend its user\'s, the others all; the rest is answered as unknown', async (t) => {
  // [session id, its user] → who sees it.
  const cells: [sessionId: string, userId: string | null, sees: Record<Role, boolean>][] = [
    ['session-1', 'user-1', { controller: true, agent: true, frontend: true, auditor: true }],
    ['session-2', 'user-1', { controller: true, agent: false, frontend: true, auditor: true }],
    ['session-1', 'user-2', { controller: true, agent: true, frontend: false, auditor: true }],
    ['session-3', 'user-2', { controller: true, agent: false, frontend: false, auditor: true }],
    ['session-4', null, { controller: true, agent: false, frontend: false, auditor: true }],
  ];
  for (const [sessionId, userId, sees] of cells) {
    for (const [role, principal] of Object.entries(principals) as [Role, Principal][]) {
      t.equal(visibilityOf(principal)(sessionId, { userId }), sees[role], `${role}: ${sessionId} of ${userId ?? 'nobody'}`);
      t.equal(callerOf(principal).maySee(sessionId, { userId }), sees[role], `${role}, through its caller`);
    }
  }
});
