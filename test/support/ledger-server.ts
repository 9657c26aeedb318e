import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Principal } from '../../src/http/claims.js';
import { buildApp } from '../../src/http/app.js';
import { createTokenSigner } from '../../src/http/tokens.js';
import type { WatchLimits } from '../../src/http/watch-hub.js';
import { createLogger } from '../../src/logger.js';
import { createProjector, openReadModel } from '../../src/projector/index.js';
import { openEventStoreDbStore, type EventStoreDbStoreOptions } from '../../src/store/eventstoredb/index.js';
import type { EventStore } from '../../src/store/port.js';
import { openSqliteEventStore } from '../../src/store/sqlite/index.js';

export const JWT_SECRET = 'test-secret-of-at-least-thirty-two-characters';
export const PROVIDERS = ['gemini', 'codex', 'claude-code'];

/** The embedded store in `dbPath`, or EventStoreDB with the read model alone in `dbPath`. */
function openStore(dbPath: string, eventStoreDb: EventStoreDbStoreOptions | undefined): { store: EventStore; db: Database.Database } {
  if (!eventStoreDb) {
    const store = openSqliteEventStore({ path: dbPath });
    return { store, db: store.database };
  }
  return { store: openEventStoreDbStore(eventStoreDb), db: new Database(dbPath) };
}

/**
 * A real ledger for a test: a SQLite file in a fresh folder, the projector, and the HTTP
 * API listening on 127.0.0.1 at a free port. Log lines are kept in `logs`. With
 * `eventStoreDb`, the events go there and the file holds the read model only.
 */
export async function startLedger(
  options: { readWaitMs?: number; bodyLimit?: number; watchLimits?: WatchLimits; eventStoreDb?: EventStoreDbStoreOptions } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-http-'));
  const dbPath = join(dir, 'ledger.db');
  const logs: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void logs.push(line) });
  const { store, db } = openStore(dbPath, options.eventStoreDb);
  const readModel = openReadModel(db);
  const projector = createProjector({ store, db, logger });
  projector.start();
  const clock = () => new Date();
  const app = await buildApp({
    store,
    readModel,
    projector,
    clock,
    jwtSecret: JWT_SECRET,
    providers: PROVIDERS,
    logger,
    readWaitMs: options.readWaitMs ?? 2000,
    bodyLimit: options.bodyLimit,
    watchLimits: options.watchLimits,
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const sign = createTokenSigner(JWT_SECRET, clock);
  const token = (principal: Principal, ttlMs = 600_000) => sign(principal, new Date(Date.now() + ttlMs));

  /** Calls the API; JSON in, JSON (or text) out. */
  async function call(method: string, path: string, { token: bearer, body, headers = {} }: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(bearer && { authorization: `Bearer ${bearer}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, headers: response.headers, type, body: type.includes('json') ? JSON.parse(text) : text };
  }

  return {
    url,
    dbPath,
    store,
    projector,
    logs,
    call,
    token,
    controller: token({ role: 'controller', sub: 'vm-manager' }),
    auditor: token({ role: 'auditor', sub: 'audit' }),
    frontend: (userId: string) => token({ role: 'frontend', sub: `user:${userId}`, userId }),
    agent: (sessionId: string) => token({ role: 'agent', sub: `agent:${sessionId}`, sessionId }),
    newEventId: () => randomUUID(),
    async close() {
      await app.close();
      await projector.stop();
      await store.close();
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type TestLedger = Awaited<ReturnType<typeof startLedger>>;
