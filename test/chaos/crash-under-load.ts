/**
 * One round of the crash test: `ledger serve` (bundled, a real process) over a fresh SQLite
 * file; writers run every session's script at once, retrying each request until answered;
 * the server is SIGKILLed at random moments and restarted on the same file. Then the file is
 * asked whether every acknowledgement holds (store-findings.ts) and `ledger verify` whether
 * the read model is the fold of the log. The round reports what it saw; the test judges.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenSigner } from '../../src/http/tokens.js';
import { runBundled, serveBundled, type BundledServer, type LoggedError } from '../support/bundled-ledger.js';
import { seededRandom } from '../support/seeded-random.js';
import { planSessions, readyStep, requestCount, type Acknowledged, type SessionPlan, type Step } from './chaos-workload.js';
import { expectedStatus, type Status } from './expected-status.js';
import { retryingClient } from './retrying-client.js';
import { storeFindings, type StoreFindings } from './store-findings.js';

const JWT_SECRET = 'chaos-test-secret-of-at-least-thirty-two-characters';
/**
 * The share of answers the writers' network loses after the server has answered: a kill
 * lands between a commit and its answer only now and then, and this is that case, often.
 */
const LOST_ANSWERS = 0.1;

export interface RoundOptions {
  /** The bundled CLI (ledger-bundle.ts). */
  main: string;
  /** Replays the round's choices: the scripts, the kill moments. */
  seed: number;
  sessions: number;
  /** Sessions run at once, each by its own writer. */
  concurrency: number;
  /** SIGKILLs while the writers run. */
  kills: number;
}

/** What went otherwise than the contract says; each list empty in a good round. */
export interface RoundFindings extends StoreFindings {
  /** Answers no retry explains: a 4xx other than a refused cancel, a 200 to a first send, a ledger's refusal the table does not make. */
  unexpectedAnswers: string[];
  /** 5xx answers other than 503, and error lines the servers logged. */
  serverErrors: string[];
  /** Read-model statuses that differ from the truth table's for the acknowledged facts, in the order they were acknowledged. */
  statusMismatches: string[];
  /** `ledger verify` not clean, or not over every session. */
  verify: string[];
  /** The last server did not stop cleanly on SIGTERM. */
  shutdown: string[];
}

export interface RoundReport {
  seed: number;
  /** Events acknowledged (2xx), of which `recovered` answered 200: a retry of a send that had landed. */
  acknowledged: number;
  recovered: number;
  /** Cancels refused (409) because the session had an outcome. */
  refused: number;
  kills: number;
  /** Answers thrown away, as if the connection had dropped after the server answered. */
  answersLost: number;
  /** Sends repeated after a dropped connection, a lost answer or a 5xx. */
  retries: number;
  findings: RoundFindings;
}

/** An answer the test did not expect ends its session's script; it is a finding already. */
class SessionAbandoned extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function crashUnderLoad({ main, seed, sessions, concurrency, kills }: RoundOptions): Promise<RoundReport> {
  const random = seededRandom(seed);
  const dir = mkdtempSync(join(tmpdir(), 'ledger-chaos-'));
  const db = join(dir, 'ledger.db');
  const errorsLogged: LoggedError[] = [];
  const findings: RoundFindings = {
    lost: [],
    doubled: [],
    misplaced: [],
    unexplained: [],
    gaps: [],
    unexpectedAnswers: [],
    serverErrors: [],
    statusMismatches: [],
    verify: [],
    shutdown: [],
  };
  const report: RoundReport = { seed, acknowledged: 0, recovered: 0, refused: 0, kills: 0, answersLost: 0, retries: 0, findings };

  const start = () => serveBundled(main, db, { LEDGER_JWT_SECRET: JWT_SECRET }, { onError: (error) => errorsLogged.push(error) });
  /** The server up now, or the one being started: set before a kill, so no request goes to a dead port. */
  let current: Promise<BundledServer> = start();

  try {
    const sign = createTokenSigner(JWT_SECRET, () => new Date());
    const hour = () => new Date(Date.now() + 3_600_000);
    const agentTokens = new Map<string, string>();
    const tokens = {
      controller: sign({ role: 'controller', sub: 'chaos-vm-manager' }, hour()),
      frontend: (userId: string) => sign({ role: 'frontend', sub: `user:${userId}`, userId }, hour()),
      agent: (sessionId: string) => agentTokens.get(sessionId)!,
    };
    const send = retryingClient({
      server: async () => (await current).url,
      loseAnswer: () => {
        const lose = random.next() < LOST_ANSWERS;
        if (lose) report.answersLost++;
        return lose;
      },
      onRetry: (request, { status, detail }) => {
        report.retries++;
        if (status !== null && status !== 503) findings.serverErrors.push(`${request.method} ${request.path}: ${status} ${detail}`);
      },
    });

    const plans = planSessions(random, sessions, `chaos-${seed}`);
    // Kill moments: after a random number of answers, then a few random milliseconds, while
    // the other writers' requests are in flight; the last with a quarter of the work still to
    // come, so that the answers after a restart reach the next mark.
    const total = requestCount(plans);
    const marks = Array.from({ length: kills }, () => random.int(Math.ceil(total * 0.1), Math.floor(total * 0.75))).sort((a, b) => a - b);
    let answered = 0;
    let crashing: Promise<unknown> = Promise.resolve();
    let restarting = false;
    const answeredOne = () => {
      answered++;
      if (restarting || marks.length === 0 || answered < marks[0]!) return;
      marks.shift();
      restarting = true;
      const delay = random.int(0, 20);
      crashing = (async () => {
        await sleep(delay);
        const victim = await current;
        current = victim.kill().then(start);
        report.kills++;
        await current;
        restarting = false;
      })();
    };

    /** Each session's acknowledged fact types, in the order acknowledged. */
    const acknowledgedTypes = new Map<string, string[]>();
    const acknowledged: Acknowledged[] = [];

    const runStep = async (step: Exclude<Step, { kind: 'together' }>, plan: SessionPlan) => {
      const ready = readyStep(step, plan, tokens);
      const types = acknowledgedTypes.get(plan.sessionId)!;
      // What the table says a cancel meets, before it is sent (a cancel never runs beside another step).
      const refusalExpected = step.kind === 'cancel' && expectedStatus(types) !== 'pending';
      const answer = await send(ready.request);
      answeredOne();
      const what = `${ready.request.method} ${ready.request.path} (${ready.type}, sent ${answer.attempts}x)`;
      if (answer.status === 409 && step.kind === 'cancel') {
        report.refused++;
        if (!refusalExpected) findings.unexpectedAnswers.push(`${what}: refused a cancel of a pending session: ${JSON.stringify(answer.body)}`);
        return;
      }
      if (answer.status !== 200 && answer.status !== 201) {
        findings.unexpectedAnswers.push(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
        throw new SessionAbandoned();
      }
      if (refusalExpected) findings.unexpectedAnswers.push(`${what}: accepted a cancel of a session with an outcome`);
      if (answer.status === 200 && answer.attempts === 1) findings.unexpectedAnswers.push(`${what}: 200 (recorded before) to its first send`);
      if (answer.status === 200) report.recovered++;
      if (step.kind === 'start') agentTokens.set(plan.sessionId, (answer.body as { agentToken: string }).agentToken);
      const ack = ready.acknowledged(answer.body);
      acknowledged.push(ack);
      types.push(ack.type);
      report.acknowledged++;
    };

    const runSession = async (plan: SessionPlan) => {
      acknowledgedTypes.set(plan.sessionId, []);
      try {
        for (const step of plan.steps) {
          if (step.kind === 'together') await Promise.all(step.steps.map((one) => runStep(one as Exclude<Step, { kind: 'together' }>, plan)));
          else await runStep(step, plan);
        }
      } catch (error) {
        if (!(error instanceof SessionAbandoned)) throw error;
        // What it should end as is unknown: no status to compare.
        acknowledgedTypes.delete(plan.sessionId);
      }
    };

    const queue = [...plans];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let plan = queue.shift(); plan; plan = queue.shift()) await runSession(plan);
      }),
    );
    await crashing;

    // Read after the last write: the read model has caught up once a read naming the last
    // acknowledged position answers.
    const last = acknowledged.reduce((max, ack) => (BigInt(ack.position) > max ? BigInt(ack.position) : max), 0n);
    const caughtUp = await send({ method: 'GET', path: `/v1/sessions/${plans[0]!.sessionId}?after=${last}`, token: tokens.controller });
    if (caughtUp.status !== 200) findings.unexpectedAnswers.push(`the read after ${last}: ${caughtUp.status} ${JSON.stringify(caughtUp.body)}`);
    const stopped = await (await current).stop();
    if (stopped.code !== 0) findings.shutdown.push(`exit ${stopped.signal ?? stopped.code} on SIGTERM`);

    const verified = await runBundled(main, ['verify', '--json'], { LEDGER_DB: db });
    const verifyReport = JSON.parse(verified.stdout || '{}') as { clean?: boolean; checked?: number };
    if (verified.code !== 0 || verifyReport.clean !== true) findings.verify.push(`exit ${verified.code}: ${verified.stdout}${verified.stderr}`);
    else if (verifyReport.checked !== plans.length) findings.verify.push(`checked ${verifyReport.checked} sessions of ${plans.length}`);

    const store = storeFindings(db, acknowledged);
    Object.assign(findings, { ...store.findings });
    for (const [sessionId, types] of acknowledgedTypes) {
      const expected: Status = expectedStatus(types);
      const actual = store.statuses.get(sessionId);
      if (actual !== expected) findings.statusMismatches.push(`${sessionId}: read model ${actual ?? 'missing'}, table ${expected} (facts ${types.join(', ')})`);
    }
    findings.serverErrors.push(...errorsLogged.map(({ line }) => line));
    return report;
  } finally {
    // Whatever happened above, no server outlives the round.
    await (await current.catch(() => null))?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
