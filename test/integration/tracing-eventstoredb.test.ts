/**
 * Across EventStoreDB instances: the `traceparent` travels in the event's metadata through
 * the store, so another instance's projectors and its webhook consumer, reading the event
 * from `$all` over gRPC (the wire emulator here), put their spans in the trace of the request
 * that the first instance served.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import t from 'tap';
import { createLedger } from '../../src/application/create-ledger.js';
import { sessionStreamName } from '../../src/events/index.js';
import { parseSubscriptions } from '../../src/reactions/subscriptions.js';
import { startTracing } from '../../src/tracing/sdk.js';
import { startEsdbEmulator } from '../emulator/esdb-emulator.js';
import { PROVIDERS, startLedger } from '../support/ledger-server.js';
import { within } from '../support/waits.js';
import { startReceiver } from '../support/webhook-receiver.js';

const exporter = new InMemorySpanExporter();
const tracing = startTracing({}, [new SimpleSpanProcessor(exporter)])!;
t.teardown(() => tracing.shutdown());
const emulator = await startEsdbEmulator();
t.teardown(() => emulator.stop());
const dir = mkdtempSync(join(tmpdir(), 'ledger-tracing-esdb-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test("another instance's projectors and webhooks join the trace of the request the first one served", async (t) => {
  const receiver = await startReceiver(() => ({ status: 200 }));
  t.teardown(() => receiver.close());
  // The instance that serves the API, with no webhooks…
  const serving = await startLedger({ eventStoreDb: { connectionString: emulator.connectionString }, requestSpans: tracing.requests });
  t.teardown(() => serving.close());
  // …and another, on its own read-model file, that delivers them.
  const secret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
  const delivering = await createLedger({
    store: { kind: 'eventstoredb', connectionString: emulator.connectionString, readModelPath: join(dir, 'other.db') },
    providers: PROVIDERS,
    webhooks: { subscriptions: parseSubscriptions(JSON.stringify([{ id: 'elsewhere', url: receiver.url('/hooks'), secret, statuses: ['completed'] }]), PROVIDERS, 'inline') },
  });
  t.teardown(() => delivering.close());
  delivering.start();

  const started = await serving.call('POST', '/v1/sessions', { token: serving.controller, body: { userId: 'user-1', provider: 'gemini', browserVmId: `vm-${randomUUID()}` } });
  const { sessionId } = started.body as { sessionId: string };
  const stored = await serving.call('POST', `/v1/sessions/${sessionId}/events`, {
    token: serving.agent(sessionId),
    body: { type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'gemini', credentialRef: 'cred-1' } },
  });
  t.equal(stored.status, 201);
  await within(receiver.arrived('/hooks', 1), 'the other instance delivers the webhook', 10_000);
  const projectedEverywhere = () => exporter.getFinishedSpans().filter((span) => span.name === 'project CredentialsStored').length >= 4;
  await within(
    (async () => {
      while (!projectedEverywhere() || !exporter.getFinishedSpans().some((span) => span.name === 'webhook delivery')) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    'both instances project it and the delivery span ends',
    10_000,
  );

  const spans = exporter.getFinishedSpans();
  const [event] = (await serving.store.readStream(sessionStreamName(sessionId))).filter((recorded) => recorded.type === 'CredentialsStored');
  const command = spans.find((span) => span.name === 'command RecordFact')!;
  t.equal(event!.metadata.traceparent, `00-${command.spanContext().traceId}-${command.spanContext().spanId}-01`, 'the event read back from EventStoreDB holds the command span');
  t.match(spans.find((span) => span.name === 'store append')!.attributes, { 'db.system.name': 'eventstoredb' });
  const childrenOfCommand = (name: string) =>
    spans.filter((span: ReadableSpan) => span.name === name && span.parentSpanContext?.spanId === command.spanContext().spanId && span.spanContext().traceId === command.spanContext().traceId);
  t.equal(childrenOfCommand('project CredentialsStored').length, 4, "both instances' two projectors: children of the command, in its trace");
  const [delivery] = childrenOfCommand('webhook delivery');
  t.match(delivery?.attributes, { 'ledger.webhook.subscription': 'elsewhere', 'ledger.webhook.outcome': 'delivered' }, "the other instance's delivery: a child of the command");
  t.equal(receiver.received[0]!.headers.traceparent.split('-')[1], command.spanContext().traceId, 'and its POST carries the trace');

  // A third instance, started later, catches up on the log: a batch span, linked to the
  // commands, and no span per event in traces long closed.
  const late = await createLedger({ store: { kind: 'eventstoredb', connectionString: emulator.connectionString, readModelPath: join(dir, 'late.db') }, providers: PROVIDERS });
  t.teardown(() => late.close());
  late.start();
  const caughtUpBatch = await within(
    (async () => {
      for (;;) {
        const found = exporter.getFinishedSpans().find((span) => span.name === 'project batch auth_sessions' && span.attributes['ledger.live'] === false && span.links.some((link) => link.context.spanId === command.spanContext().spanId));
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })(),
    'the late instance catches up',
  );
  t.equal(caughtUpBatch.parentSpanContext, undefined, 'its batch: a root span of its own');
  t.equal(exporter.getFinishedSpans().filter((span) => span.name === 'project CredentialsStored').length, 4, 'no span per event replayed');
});
