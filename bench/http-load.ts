// Child role `http-load <spec JSON>`: autocannon, in a process of its own so that the load
// generator's work is not the server's, against one route for a fixed time; prints
// autocannon's result as one JSON line. Each request is built afresh (`setupRequest`), so
// every write is a new fact: a fresh event id, a new session; the reads and the facts go
// round the sessions the start load started, whose ids it wrote to a file.
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';

/** The routes loaded: the bare ceiling's two, and the ledger's three. */
export type LoadKind = 'bare-get' | 'bare-post' | 'start-session' | 'record-fact' | 'read-session';

export interface LoadSpec {
  /** `http://127.0.0.1:<port>` */
  url: string;
  kind: LoadKind;
  connections: number;
  durationS: number;
  /** The bearer token of the ledger's routes. */
  token?: string | undefined;
  /** `start-session` writes the ids of the sessions it started here; the other ledger loads go round them. */
  sessionsFile?: string | undefined;
}

/** Autocannon's result, as far as the scenario reads it. */
export interface LoadResult {
  duration: number;
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
}

/** A fact as an agent posts it (README, HTTP API): the same shape and size on the bare route. */
const factBody = (n: number) => JSON.stringify({ type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'gemini', credentialRef: `cred-row-${n}` } });

const sessionIdInAnswer = /"sessionId":"([^"]+)"/;

export async function httpLoad([specJson]: string[]): Promise<void> {
  if (specJson === undefined) throw new Error('usage: http-load <spec JSON>');
  const spec = JSON.parse(specJson) as LoadSpec;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (spec.token !== undefined) headers.authorization = `Bearer ${spec.token}`;
  const sessions = spec.kind === 'record-fact' || spec.kind === 'read-session' ? sessionsIn(spec.sessionsFile) : [];
  const started: string[] = [];
  let n = 0;
  const nextSession = () => sessions[n++ % sessions.length]!;

  const request: autocannon.Request = (() => {
    switch (spec.kind) {
      case 'bare-get':
        return { method: 'GET', path: '/sessions/bench', headers };
      case 'bare-post':
        return { method: 'POST', headers, setupRequest: (req: autocannon.Request) => ({ ...req, path: `/sessions/bench-${n}/events`, body: factBody(n++) }) };
      case 'start-session':
        return {
          method: 'POST',
          path: '/v1/sessions',
          headers,
          setupRequest: (req: autocannon.Request) => ({ ...req, body: JSON.stringify({ userId: `user-${n % 1000}`, provider: 'gemini', browserVmId: `vm-${n++}` }) }),
          onResponse: (status: number, body: string) => {
            const id = status === 201 ? sessionIdInAnswer.exec(body)?.[1] : undefined;
            if (id !== undefined) started.push(id);
          },
        };
      case 'record-fact':
        return { method: 'POST', headers, setupRequest: (req: autocannon.Request) => ({ ...req, path: `/v1/sessions/${nextSession()}/events`, body: factBody(n) }) };
      case 'read-session':
        return { method: 'GET', headers, setupRequest: (req: autocannon.Request) => ({ ...req, path: `/v1/sessions/${nextSession()}` }) };
    }
  })();

  const result = await autocannon({ url: spec.url, connections: spec.connections, duration: spec.durationS, requests: [request] });
  if (spec.kind === 'start-session') {
    if (spec.sessionsFile === undefined) throw new Error('start-session needs a sessionsFile to write');
    writeFileSync(spec.sessionsFile, JSON.stringify(started));
  }
  console.log(JSON.stringify(result));
}

function sessionsIn(file: string | undefined): string[] {
  if (file === undefined) throw new Error('this load needs the sessions file the start load wrote');
  const ids = JSON.parse(readFileSync(file, 'utf8')) as string[];
  if (ids.length === 0) throw new Error('the start load started no session to go round');
  return ids;
}
