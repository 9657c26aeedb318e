import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLedger, type Ledger, type LedgerOptions } from '../../src/application/create-ledger.js';
import type { StoreChoice } from '../../src/application/open-store.js';
import { buildApp, type HttpOptions } from '../../src/http/app.js';
import type { Principal } from '../../src/http/claims.js';
import type { HttpLimits } from '../../src/http/limits.js';
import { createTokenSigner } from '../../src/http/tokens.js';
import type { WatchLimits } from '../../src/http/watch-hub.js';
import { createLogger } from '../../src/logger.js';
import type { EventStoreDbStoreOptions } from '../../src/store/eventstoredb/index.js';
import type { SynchronousMode } from '../../src/store/sqlite/index.js';
import { recordAnsweredStatuses } from './answered-statuses.js';
import { reportToTheSuite } from './suite-statuses.js';

export const JWT_SECRET = 'test-secret-of-at-least-thirty-two-characters';
export const PROVIDERS = ['gemini', 'codex', 'claude-code'];

export interface TestLedgerOptions {
  readWaitMs?: number;
  bodyLimit?: number;
  watchLimits?: WatchLimits;
  /** The events go there, and the SQLite file holds the read model only. */
  eventStoreDb?: EventStoreDbStoreOptions;
  /** A seal key file: the ledger signs seals with it (on demand; its timer is an hour). */
  sealKeyFile?: string;
  /** The embedded store's `synchronous`, for tests that write much and test no durability. */
  synchronous?: SynchronousMode;
  /**
   * How long a watch stays open after `failed` or `cancelled`. 0 unless a test says: tests of
   * other things end such a watch at once; the grace period has tests of its own.
   */
  watchGraceMs?: number;
  /** Origins allowed to call from a browser (CORS). */
  corsOrigins?: string[];
  /** The ledger's clock; the system's by default. */
  clock?: () => Date;
  /** The console's files; `dist/console` by default. */
  consoleRoot?: string;
  /** Where the test's own folder (and the SQLite file in it) is made: the system's temporary folder by default. */
  folder?: string;
  /** How long the projectors wait before trying again after a failure; 1 s by default. */
  projectorRetryDelayMs?: number;
  /** The longest a token may live (LEDGER_TOKEN_MAX_TTL); a day by default. */
  tokenMaxTtlSeconds?: number;
  /**
   * Rate limit, timeouts and load shedding; `serve`'s defaults, except that no load is shed
   * unless a test says: a test's process also runs the test itself (in-process commands,
   * property runs) on the loop the ledger shares, which is no pressure of the ledger's.
   */
  limits?: Partial<HttpLimits>;
  /** Webhook subscriptions, and how their retries are timed. */
  webhooks?: LedgerOptions['webhooks'];
  /** A span per request, when the test traces (`startTracing`). */
  requestSpans?: HttpOptions['requestSpans'];
}

/** A ledger for a test, built by the composition root `serve` uses: a SQLite file in a fresh folder, started. */
async function startTestLedger(options: TestLedgerOptions = {}) {
  const dir = mkdtempSync(join(options.folder ?? tmpdir(), 'ledger-http-'));
  const dbPath = join(dir, 'ledger.db');
  const logs: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void logs.push(line) });
  const store: StoreChoice = options.eventStoreDb
    ? { kind: 'eventstoredb', ...options.eventStoreDb, readModelPath: dbPath }
    : { kind: 'sqlite', path: dbPath, synchronous: options.synchronous };
  const seal = options.sealKeyFile === undefined ? undefined : { keyFile: options.sealKeyFile, intervalMs: 3_600_000 };
  const ledger = await createLedger({
    store,
    logger,
    clock: options.clock,
    providers: PROVIDERS,
    readWaitMs: options.readWaitMs ?? 2000,
    seal,
    projectorRetryDelayMs: options.projectorRetryDelayMs,
    webhooks: options.webhooks,
  });
  ledger.start();
  return { ledger, dir, dbPath, logs, logger };
}

/** What a test sends: a method, a path, a bearer token, a body (JSON unless a string), headers. */
export interface CallOptions {
  token?: string | undefined;
  body?: unknown;
  headers?: Record<string, string> | undefined;
}

/** One request of a test over some transport: a real socket, or `app.inject`. */
type Send = (method: string, path: string, headers: Record<string, string>, body: string | undefined) => Promise<{ status: number; headers: Headers; text: string }>;

/** Calls the API; JSON in, JSON (or text) out. */
const callerOver =
  (send: Send) =>
  async (method: string, path: string, { token: bearer, body, headers = {} }: CallOptions = {}) => {
    const answer = await send(
      method,
      path,
      {
        ...(bearer && { authorization: `Bearer ${bearer}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    );
    const type = answer.headers.get('content-type') ?? '';
    return { status: answer.status, headers: answer.headers, type, body: /^application\/(problem\+)?json/.test(type) ? (JSON.parse(answer.text) as unknown) : answer.text };
  };

/**
 * A real ledger for a test: a SQLite file in a fresh folder, the projector, and the HTTP API,
 * listening on 127.0.0.1 at a free port (`over: 'socket'`, the default) or answering
 * `app.inject` without a socket (`over: 'inject'`: faster, for what needs no real
 * connection). Log lines are kept in `logs`. With `eventStoreDb`, the events go there and
 * the file holds the read model only.
 */
export async function startLedger(options: TestLedgerOptions & { over?: 'socket' | 'inject' } = {}) {
  const { ledger, dir, dbPath, logs, logger } = await startTestLedger(options);
  const app = await buildApp(ledger, {
    jwtSecret: JWT_SECRET,
    logger,
    bodyLimit: options.bodyLimit,
    watchLimits: options.watchLimits,
    watchGraceMs: options.watchGraceMs ?? 0,
    corsOrigins: options.corsOrigins,
    consoleRoot: options.consoleRoot,
    tokenMaxTtlSeconds: options.tokenMaxTtlSeconds,
    limits: { pressure: { maxEventLoopDelayMs: 0, maxHeapUsedBytes: 0 }, ...options.limits },
    requestSpans: options.requestSpans,
  });
  const answeredStatuses = recordAnsweredStatuses(app);
  reportToTheSuite(app, answeredStatuses);
  let url = '';
  let send: Send;
  if (options.over === 'inject') {
    send = async (method, path, headers, body) => {
      const answer = await app.inject({ method: method as 'GET', url: path, headers, payload: body });
      const answerHeaders = new Headers();
      for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined) answerHeaders.set(name, String(value));
      return { status: answer.statusCode, headers: answerHeaders, text: answer.body };
    };
  } else {
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    send = async (method, path, headers, body) => {
      const answer = await fetch(`${url}${path}`, { method, headers, body });
      return { status: answer.status, headers: answer.headers, text: await answer.text() };
    };
  }
  // On the system's clock, as the ledger checks tokens: a test that sets the ledger's clock
  // elsewhere still holds tokens that are good now, for `ttlMs`.
  const sign = createTokenSigner(JWT_SECRET, () => new Date());
  const token = (principal: Principal, ttlMs = 600_000) => sign(principal, new Date(Date.now() + ttlMs));

  return {
    url,
    dbPath,
    ledger,
    store: ledger.store,
    projector: ledger.projector,
    logs,
    call: callerOver(send),
    token,
    ...roleTokens(token),
    newEventId: () => randomUUID(),
    /** The statuses each documented operation answered so far (see `recordAnsweredStatuses`). */
    answeredStatuses,
    async close() {
      await app.close();
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One token per role, for tests that act as each of DESIGN.md's callers. */
export function roleTokens(token: (principal: Principal) => string) {
  return {
    controller: token({ role: 'controller', sub: 'vm-manager' }),
    auditor: token({ role: 'auditor', sub: 'audit' }),
    frontend: (userId: string) => token({ role: 'frontend', sub: `user:${userId}`, userId }),
    agent: (sessionId: string) => token({ role: 'agent', sub: `agent:${sessionId}`, sessionId }),
  };
}

export type TestLedger = Awaited<ReturnType<typeof startLedger>>;
export type { Ledger };
