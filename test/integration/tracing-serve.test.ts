/**
 * `ledger serve` traces only when the environment asks: with OTEL_EXPORTER_OTLP_ENDPOINT it
 * sends its spans over OTLP (HTTP, protobuf) to a collector, here a real receiver on
 * 127.0.0.1, its log lines name their trace, and the events it records carry their
 * `traceparent`; without it, none of that happens and the start is as it was.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { serveLedger } from '../support/served-ledger.js';
import { within } from '../support/waits.js';

/** A collector's OTLP/HTTP endpoint: keeps each export's body. */
async function startCollector() {
  const exports: { path: string; type: string; body: Buffer }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      exports.push({ path: request.url ?? '', type: String(request.headers['content-type']), body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    /** Every export's bytes so far, once they hold every one of `texts`. */
    async holding(...texts: string[]) {
      const all = () => Buffer.concat(exports.map((taken) => taken.body));
      while (!texts.every((text) => all().includes(text))) await new Promise((resolve) => setTimeout(resolve, 20));
      return all();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Metadata = Record<string, unknown>;
const metadataOf = (body: unknown) => (body as { events: { metadata: Metadata }[] }).events.map((event) => event.metadata);
const requestLines = (lines: Record<string, unknown>[]) => lines.filter((line) => line.msg === 'request');

t.test('with OTEL_EXPORTER_OTLP_ENDPOINT, serve exports its spans to the collector', async (t) => {
  const collector = await startCollector();
  t.teardown(() => collector.close());
  const ledger = await serveLedger({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_SERVICE_NAME: 'ledger-under-test' });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await ledger.stop();
  });
  t.equal(ledger.lines.find((line) => line.msg === 'ledger listening')?.traces, 'otlp', 'its start says where traces go');

  const { sessionId } = await ledger.startSession();
  t.equal((await ledger.storeCredentials(sessionId)).status, 201);
  const exported = await within(collector.holding('ledger-under-test', 'command RecordFact', 'store append', 'project CredentialsStored'), 'the spans reach the collector', 10_000);
  t.ok(exported.length > 0);
  t.ok(
    collector.exports.every((taken) => taken.path === '/v1/traces' && taken.type === 'application/x-protobuf'),
    'OTLP over HTTP, protobuf, at <endpoint>/v1/traces',
  );

  const metadata = metadataOf((await ledger.call('GET', `/v1/sessions/${sessionId}/events`, { token: ledger.auditor })).body);
  t.equal(metadata.length, 2);
  for (const each of metadata) t.match(each.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, 'each recorded event carries its traceparent');
  const [started, stored] = metadata.map((each) => String(each.traceparent).split('-')[1]);
  t.not(started, stored, 'each request its own trace');
  t.ok(exported.includes(Buffer.from(stored!, 'hex')), "the event's trace is the one exported");

  // A request's line is written as it is answered: the last one may still be on its way.
  await within(
    (async () => {
      while (requestLines(ledger.lines).length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    'three request lines',
  );
  const lines = requestLines(ledger.lines);
  for (const line of lines) t.match(line, { trace_id: /^[0-9a-f]{32}$/, span_id: /^[0-9a-f]{16}$/ }, `${String(line.method)} ${String(line.route)}: its line names its trace`);
  t.ok(lines.some((line) => line.trace_id === stored), "the append's line names the trace the event stores");

  stopped = true;
  t.equal(await ledger.stop(), 0, 'it stops cleanly, spans flushed');
});

t.test('without it, serve traces nothing and events carry no traceparent', async (t) => {
  const ledger = await serveLedger({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_TRACES_EXPORTER: '' });
  t.teardown(() => ledger.stop());
  t.equal(ledger.lines.find((line) => line.msg === 'ledger listening')?.traces, 'off');
  const { sessionId } = await ledger.startSession();
  await ledger.storeCredentials(sessionId);
  const metadata = metadataOf((await ledger.call('GET', `/v1/sessions/${sessionId}/events`, { token: ledger.auditor })).body);
  t.equal(metadata.length, 2);
  for (const each of metadata) t.notOk('traceparent' in each, 'no traceparent');
  for (const line of requestLines(ledger.lines)) t.notOk('trace_id' in line, 'no trace in the log');
});
