/**
 * Every route of a running ledger, fuzzed with fast-check over raw sockets: hostile bodies,
 * headers and tokens, paths and queries, and HTTP that is not HTTP. Whatever comes, the
 * ledger answers; never with a 5xx (but the 503 of a read that waited, which the contract
 * names); every error is `application/problem+json`; an error changes nothing in the store;
 * it keeps answering; it logs no token it was sent; and each status a documented route
 * answers is one its OpenAPI document declares. The routes come from the document itself
 * (/docs/json), so a new route is fuzzed as soon as it is documented.
 *
 * FUZZ_RUNS requests in all (1,000 by default; `npm run test:chaos` sends 10,000); FUZZ_SEED
 * replays a run. A failure prints the shrunk request: tokens by name, long runs of a
 * character as `{ repeat, times }`, raw bytes as `{ bytes }`.
 */
import fc from 'fast-check';
import t from 'tap';
import { PROBLEM_TYPE_BASE, ProblemJson, StartedJson } from '../../src/contract/index.js';
import { compareStatuses, undeclared } from '../support/answered-statuses.js';
import { JWT_SECRET, startLedger } from '../support/ledger-server.js';
import { declaredStatuses, documentPath, operationKey, operationsOf, type OpenApiDocument } from '../support/openapi.js';
import { answered, rawRequest, type RawAnswer } from '../support/raw-http.js';
import { seedFrom } from '../support/seeded-random.js';
import { fuzzTokens } from './fuzz-tokens.js';
import { hostileBodies, hostileHeaders, hostileTargets, malformedHttp, renderRequest, type Fuzzed, type FuzzContext, type Part } from './hostile-requests.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const seed = seedFrom('FUZZ_SEED');
t.comment(`route fuzzing: ${RUNS} requests, seed ${seed} (FUZZ_SEED=${seed} replays them)`);

// A read with `after` waits this long before its 503: the fuzzer asks for positions far ahead.
const ledger = await startLedger({ readWaitMs: 20 });
t.teardown(() => ledger.close());
const port = Number(new URL(ledger.url).port);

const userId = 'user-1';
const vmId = 'vm-fuzz';
const started = await ledger.call('POST', '/v1/sessions', { token: ledger.controller, body: { userId, provider: 'gemini', browserVmId: vmId } });
const { sessionId } = StartedJson.parse(started.body);
const tokens = fuzzTokens(JWT_SECRET, { sessionId, userId });

// The document is no answer of the contract: read as what it claims to be.
const document = (await ledger.call('GET', '/docs/json')).body as OpenApiDocument;
const operations = operationsOf(document).map(({ method, path, operation }) => ({
  operationId: operation.operationId ?? `${method} ${path}`,
  method,
  path,
  query: (operation.parameters ?? []).flatMap((parameter) => ('in' in parameter && parameter.in === 'query' ? [parameter.name] : [])),
}));
const context: FuzzContext = {
  operations,
  validTokens: Object.keys(tokens.valid),
  hostileTokens: Object.keys(tokens.hostile),
  sessionId,
  userId,
  vmId,
};

const declared = declaredStatuses(document);

/** The 503s the contract names: a read that waited for the projector, a store out of reach. */
const ALLOWED_503 = new Set([`${PROBLEM_TYPE_BASE}projection-lagging`, `${PROBLEM_TYPE_BASE}unavailable`]);

const healthz = Buffer.from('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');

/** The tokens a request carries, as sent. */
function tokensIn(fuzzed: Fuzzed): string[] {
  const parts: Part[] = 'raw' in fuzzed ? fuzzed.raw : [...fuzzed.target, ...fuzzed.headers.flatMap(([, value]) => value), ...(fuzzed.body ?? [])];
  return parts.flatMap((part) => (typeof part === 'object' && 'token' in part ? [tokens.all[part.token]!] : []));
}

/** What is wrong with an error answer as a problem, or null. */
function problemFault({ status, headers, body }: RawAnswer, head: boolean): string | null {
  const type = headers['content-type'] ?? '(none)';
  if (!type.startsWith('application/problem+json')) return `answered as ${type}: ${body.toString('utf8').slice(0, 300)}`;
  if (head) return null;
  let problem: unknown;
  try {
    problem = JSON.parse(body.toString('utf8'));
  } catch {
    return `a problem that is not JSON: ${body.toString('utf8').slice(0, 300)}`;
  }
  const parsed = ProblemJson.safeParse(problem);
  if (!parsed.success) return `not a problem: ${JSON.stringify(problem)}`;
  if (!parsed.data.type.startsWith(PROBLEM_TYPE_BASE)) return `a problem of a foreign type: ${parsed.data.type}`;
  if (parsed.data.status !== status) return `a problem saying ${parsed.data.status}, answered ${status}`;
  return null;
}

/** How many answers of each status the family now running had: what the fuzzer reached. */
let tally = new Map<number, number>();

/** The properties, for one request; throws what it breaks. */
async function judge(fuzzed: Fuzzed): Promise<void> {
  const before = await ledger.store.lastPosition();
  const logsBefore = ledger.logs.length;
  const request = renderRequest(fuzzed, tokens.all);
  const answer = await rawRequest(port, request);
  if (!answered(answer)) throw new Error(`no answer: ${answer.noAnswer}; received ${JSON.stringify(answer.received)}`);
  const { status } = answer;
  tally.set(status, (tally.get(status) ?? 0) + 1);
  const head = request.subarray(0, 5).toString('latin1') === 'HEAD ';
  if (status >= 400) {
    const fault = problemFault(answer, head);
    if (fault !== null) throw new Error(`${status} ${fault}`);
    const after = await ledger.store.lastPosition();
    if (after !== before) throw new Error(`an error answer (${status}) changed the store: last position ${before} -> ${after}`);
    if (status >= 500) {
      const type = head ? null : (JSON.parse(answer.body.toString('utf8')) as { type: string }).type;
      if (status !== 503 || (type !== null && !ALLOWED_503.has(type))) throw new Error(`a server error: ${status} ${answer.body.toString('utf8').slice(0, 300)}`);
    }
  }
  const health = await rawRequest(port, healthz);
  if (!answered(health) || health.status !== 200) throw new Error(`the ledger stopped answering: /healthz gave ${JSON.stringify(health)}`);
  const sent = tokensIn(fuzzed).filter((token) => token.length >= 16);
  for (const line of ledger.logs.slice(logsBefore)) {
    if (sent.some((token) => line.includes(token))) throw new Error(`a log line holds a token it was sent: ${line.slice(0, 300)}`);
    // The request's own log line says which route answered it, and with what: one the document declares?
    const entry = JSON.parse(line) as { msg?: string; method?: string; route?: string | null; statusCode?: number };
    if (entry.msg !== 'request' || !entry.route || entry.method === undefined || entry.method === 'HEAD') continue;
    const operation = operationKey(entry.method, documentPath(entry.route));
    const statuses = declared.get(operation);
    if (statuses !== undefined && !statuses.includes(entry.statusCode!)) throw new Error(`${operation} answered ${entry.statusCode}, which its OpenAPI document does not declare`);
  }
}

// Requests the fuzzer found Node's HTTP server answering by itself, before the app: kept as cases.
t.test("what Node's HTTP server would answer by itself, the ledger answers", async (t) => {
  const bearer = `Authorization: Bearer ${tokens.valid.controller}\r\n`;
  const cases: [string, string, number][] = [
    ['a request without Host: served (Node would answer a bare 400)', `GET /v1/sessions/${sessionId} HTTP/1.1\r\n${bearer}Connection: close\r\n\r\n`, 200],
    ['an Expect the ledger does not know: ignored (Node would answer a bare 417)', `GET /v1/sessions/${sessionId} HTTP/1.1\r\nHost: x\r\nExpect: the unexpected\r\n${bearer}Connection: close\r\n\r\n`, 200],
    ['a CONNECT: 404, as any method no route takes (Node would drop the connection)', 'CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: x\r\n\r\n', 404],
  ];
  for (const [what, request, status] of cases) {
    const answer = await rawRequest(port, Buffer.from(request));
    if (!answered(answer)) {
      t.fail(`${what}: no answer (${answer.noAnswer})`);
      continue;
    }
    t.equal(answer.status, status, what);
    if (status >= 400) t.equal(problemFault(answer, false), null, `${what}: a problem`);
    else t.match(answer.body.toString('utf8'), `"sessionId":"${sessionId}"`, `${what}: the session`);
  }
});

/** Each family of requests and its share of the runs. */
const families: [string, fc.Arbitrary<Fuzzed>, number][] = [
  ['hostile bodies on every route, with valid tokens', hostileBodies(context), 0.3],
  ['hostile tokens, auth schemes, content types and headers on every route', hostileHeaders(context), 0.3],
  ['odd ids, queries and paths: traversal, encodings, sizes', hostileTargets(context), 0.25],
  ['malformed HTTP', malformedHttp(context), 0.15],
];

for (const [index, [name, arbitrary, share]] of families.entries()) {
  const numRuns = Math.max(1, Math.round(RUNS * share));
  t.test(`${name}: ${numRuns} requests`, async (t) => {
    tally = new Map();
    const outcome = await fc.check(fc.asyncProperty(arbitrary, judge), { numRuns, seed: seed + index, interruptAfterTimeLimit: 300_000 });
    if (outcome.failed) {
      const [request] = outcome.counterexample ?? [];
      t.fail(`${String(outcome.errorInstance)}\n  request: ${fc.stringify(request)}\n  (seed ${outcome.seed}, path "${outcome.counterexamplePath}", shrunk ${outcome.numShrinks} times)`);
    }
    else t.pass(`${outcome.numRuns} requests, every answer as the contract says`);
    t.comment(`answers: ${[...tally].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(', ')}`);
    // Whatever was sent, the ledger still answers, and answered no status its document does not declare.
    const health = await rawRequest(port, healthz);
    t.ok(answered(health) && health.status === 200, 'the ledger still answers');
    t.same(undeclared(compareStatuses(ledger.answeredStatuses(), document)), [], 'every status a documented route answered is declared');
  });
}
