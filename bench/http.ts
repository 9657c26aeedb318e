// Scenario `http`: the ledger's three hot routes under autocannon at 64 connections, beside a
// bare fastify route (the ceiling) measured in the same run, each load generator in a process
// of its own. First the ceiling's GET and POST; then the ledger over a fresh file: sessions
// started (`POST /v1/sessions`), facts recorded round the sessions that start load started
// (`POST /v1/sessions/:id/events`, each a fresh event id), and those sessions read
// (`GET /v1/sessions/:id`).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { spawnChild } from './child.js';
import { lastValue, linesOf, nextValue, stopChild } from './child-lines.js';
import type { Figure, Scenario } from './figure.js';
import type { LoadKind, LoadResult, LoadSpec } from './http-load.js';
import { freshJwtSecret, tokenMinter } from './ledger-tokens.js';

const CONNECTIONS = 64;

/** What one load gave: autocannon's result, or why there is none. */
type Outcome = { result: LoadResult } | { failed: string };

/** How a route's figures are held: its ratio to the ceiling's route of the same method, and p99. */
interface Holding {
  reference: string;
  referenceOutcome: Outcome;
  atLeast: number;
  p99UnderMs?: number;
}

const label = (route: string) => `${route}, ${CONNECTIONS} connections`;

export const httpScenario: Scenario = {
  name: 'http',
  async run({ quick, dir, log }) {
    const durationS = quick ? 1 : 10;
    const load = async (spec: Omit<LoadSpec, 'connections' | 'durationS'>): Promise<Outcome> => {
      log(`http: ${spec.kind}, ${CONNECTIONS} connections for ${durationS} s`);
      try {
        const child = spawnChild('http-load', [JSON.stringify({ ...spec, connections: CONNECTIONS, durationS } satisfies LoadSpec)]);
        return { result: await lastValue<LoadResult>(child, `the ${spec.kind} load's result`) };
      } catch (error) {
        return { failed: error instanceof Error ? error.message : String(error) };
      }
    };

    const outcomes = new Map<LoadKind, Outcome>();
    const ceiling = spawnChild('http-ceiling');
    try {
      const url = `http://127.0.0.1:${await nextValue<number>(linesOf(ceiling), "the ceiling's port")}`;
      outcomes.set('bare-get', await load({ url, kind: 'bare-get' }));
      outcomes.set('bare-post', await load({ url, kind: 'bare-post' }));
    } catch (error) {
      const failed = `the ceiling did not serve: ${error instanceof Error ? error.message : String(error)}`;
      for (const kind of ['bare-get', 'bare-post'] as const) if (!outcomes.has(kind)) outcomes.set(kind, { failed });
    } finally {
      await stopChild(ceiling);
    }

    // The ledger, as `serve` runs it by default; then again with tracing on, exporting over
    // OTLP to a collector of the bench's own that takes every export and keeps nothing.
    const ledgerKinds = ['start-session', 'record-fact', 'read-session'] as const;
    const untraced = await serveAndLoad('http.db', {}, ledgerKinds);
    const collector = await startOtlpSink();
    // A queue deep enough that no span is dropped (the default, 2,048, drops most under this
    // load): the figure is the cost of exporting every span.
    const tracingEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_MAX_QUEUE_SIZE: '262144', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4096', OTEL_BSP_SCHEDULE_DELAY: '1000' };
    const traced = await serveAndLoad('http-traced.db', tracingEnv, ['start-session', 'record-fact'] as const).finally(() => collector.close());
    for (const [kind, each] of untraced) outcomes.set(kind, each);

    async function serveAndLoad(file: string, env: Record<string, string>, kinds: readonly LoadKind[]): Promise<Map<LoadKind, Outcome>> {
      const loaded = new Map<LoadKind, Outcome>();
      const secret = freshJwtSecret();
      const ledger = spawnChild('ledger-serve', [join(dir, file)], { env: { ...process.env, LEDGER_JWT_SECRET: secret, ...env } });
      try {
        const url = `http://127.0.0.1:${await nextValue<number>(linesOf(ledger), "the ledger's port")}`;
        const token = tokenMinter(secret)({ role: 'controller', sub: 'cli-controller' });
        const sessionsFile = join(dir, `${file}-sessions.json`);
        for (const kind of kinds) loaded.set(kind, await load({ url, kind, token, sessionsFile }));
      } catch (error) {
        // The ceiling's figures stand; the ledger's say why they are missing.
        const failed = `the ledger did not serve: ${error instanceof Error ? error.message : String(error)}`;
        for (const kind of kinds) if (!loaded.has(kind)) loaded.set(kind, { failed });
      } finally {
        await stopChild(ledger);
      }
      return loaded;
    }

    const outcome = (kind: LoadKind) => outcomes.get(kind) ?? { failed: 'not run' };
    const bareGet = label('bare fastify GET');
    const barePost = label('bare fastify POST');
    const postHolding = { reference: barePost, referenceOutcome: outcome('bare-post'), atLeast: 0.5, p99UnderMs: 20 };
    return [
      ...figuresOf(bareGet, outcome('bare-get')),
      ...figuresOf(barePost, outcome('bare-post')),
      ...figuresOf(label('POST /v1/sessions/:id/events'), outcome('record-fact'), postHolding),
      ...figuresOf(label('POST /v1/sessions'), outcome('start-session'), postHolding),
      ...figuresOf(label('GET /v1/sessions/:id'), outcome('read-session'), { reference: bareGet, referenceOutcome: outcome('bare-get'), atLeast: 0.8 }),
      ...tracedFigures(label('POST /v1/sessions/:id/events'), outcome('record-fact'), traced.get('record-fact') ?? { failed: 'not run' }, collector.received),
    ];
  },
};

/** Requests per second over the time the load ran, every answer counted. */
const rateOf = (result: LoadResult) => result.requests.total / result.duration;

/** Requests/s, p50 and p99 of one route, with its ratio and targets where it is held to them. */
function figuresOf(name: string, outcome: Outcome, holding?: Holding): Figure[] {
  const figure = (suffix: string, unit: string): Figure => ({ scenario: 'http', name: `${name}${suffix}`, value: null, unit });
  const rate = figure('', 'req/s');
  const p50 = figure(' p50', 'ms');
  const p99 = figure(' p99', 'ms');
  if ('failed' in outcome) {
    for (const each of [rate, p50, p99]) each.note = `the load failed: ${outcome.failed}`;
    return [rate, p50, p99];
  }
  const { result } = outcome;
  rate.value = rateOf(result);
  p50.value = result.latency.p50;
  p99.value = result.latency.p99;
  const unanswered = result.errors + result.timeouts;
  if (result.non2xx > 0 || unanswered > 0) {
    const statuses = Object.entries(result.statusCodeStats)
      .filter(([status]) => !status.startsWith('2'))
      .map(([status, { count }]) => `${count} × ${status}`);
    rate.note = `NOT all 2xx: ${result.non2xx} non-2xx (${statuses.join(', ')}), ${result.errors} errors, ${result.timeouts} timeouts of ${result.requests.total}`;
  } else {
    rate.note = `${result.requests.total} requests, all 2xx`;
  }
  if (holding) {
    const { reference, referenceOutcome, atLeast, p99UnderMs } = holding;
    if ('result' in referenceOutcome) {
      const ratio = rate.value / rateOf(referenceOutcome.result);
      rate.ratio = { to: reference, value: ratio };
      rate.target = { text: `>= ${atLeast.toFixed(2)} of ${reference}`, met: ratio >= atLeast && result.non2xx === 0 };
    } else {
      rate.target = { text: `>= ${atLeast.toFixed(2)} of ${reference}`, met: false };
      rate.note += `; no ratio: the reference's load failed`;
    }
    if (p99UnderMs !== undefined) p99.target = { text: `< ${p99UnderMs} ms`, met: p99.value < p99UnderMs };
  }
  return [rate, p50, p99];
}

/**
 * The cost of tracing: the same route, the ledger traced and exporting every span over OTLP,
 * beside the untraced run of this bench. No target: it says what turning tracing on costs.
 */
function tracedFigures(untracedName: string, untraced: Outcome, traced: Outcome, received: { exports: number; bytes: number }): Figure[] {
  const [rate, p50, p99] = figuresOf(`${untracedName}, traced (OTLP to a local collector)`, traced);
  if ('result' in traced && 'result' in untraced) rate!.ratio = { to: untracedName, value: rateOf(traced.result) / rateOf(untraced.result) };
  rate!.note = `${rate!.note ?? ''}; the collector took ${received.exports} exports, ${(received.bytes / 2 ** 20).toFixed(1)} MiB`;
  return [rate!, p50!, p99!];
}

/** An OTLP/HTTP collector on 127.0.0.1 that answers every export and counts it. */
async function startOtlpSink() {
  const received = { exports: 0, bytes: 0 };
  const server = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (received.bytes += chunk.length));
    request.on('end', () => {
      received.exports++;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
