/**
 * One trace from the agent to the read model: the agent's call (through the typed client,
 * which sends its `traceparent`), the request, the command with its read, decision and append,
 * the projectors' spans for the event, each watcher's message and the webhook delivery, all
 * children of one another, and linked by the `traceparent` the append stored with the event.
 * The SDK runs in this process with an in-memory exporter; the ledger and its receiver are
 * real, on 127.0.0.1. No token, ticket, secret or credential appears in any span.
 */
import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import t from 'tap';
import { Webhook } from 'standardwebhooks';
import { createLedgerClient } from '../../src/client/index.js';
import { sessionStreamName } from '../../src/events/index.js';
import { parseSubscriptions } from '../../src/reactions/subscriptions.js';
import { startTracing } from '../../src/tracing/sdk.js';
import { PROVIDERS, startLedger } from '../support/ledger-server.js';
import { within } from '../support/waits.js';
import { startReceiver } from '../support/webhook-receiver.js';

const exporter = new InMemorySpanExporter();
const tracing = startTracing({}, [new SimpleSpanProcessor(exporter)])!;
t.teardown(() => tracing.shutdown());

const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
// Answers 204, but 503 to the first message of a session whose id is in `refuseOnce`.
const refuseOnce = new Set<string>();
const receiver = await startReceiver(({ body }) => {
  const { sessionId } = (JSON.parse(body) as { data: { sessionId: string } }).data;
  return refuseOnce.delete(sessionId) ? { status: 503 } : { status: 204 };
});
t.teardown(() => receiver.close());
const ledger = await startLedger({
  requestSpans: tracing.requests,
  webhooks: {
    subscriptions: parseSubscriptions(JSON.stringify([{ id: 'ops', url: receiver.url('/hooks'), secret, statuses: ['completed'] }]), PROVIDERS, 'inline'),
    schedule: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  },
});
t.teardown(() => ledger.close());

const spanId = (span: Pick<ReadableSpan, 'spanContext'>) => span.spanContext().spanId;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
/** The spans exported so far, once each of `wanted` finds one (spans end after what they wrap answered). */
async function spansOnce(what: string, ...wanted: ((span: ReadableSpan) => boolean)[]): Promise<ReadableSpan[]> {
  return within(
    (async () => {
      while (!wanted.every((each) => exporter.getFinishedSpans().some(each))) await new Promise((resolve) => setTimeout(resolve, 10));
      return exporter.getFinishedSpans();
    })(),
    what,
  );
}

/** The trace as a tree, one span a line, indented under its parent: what the README pictures. */
function treeOf(spans: readonly ReadableSpan[], root: ReadableSpan): string {
  const lines: string[] = [];
  const start = root.startTime[0] * 1e3 + root.startTime[1] / 1e6;
  const walk = (span: ReadableSpan, depth: number) => {
    const at = span.startTime[0] * 1e3 + span.startTime[1] / 1e6 - start;
    const ms = span.duration[0] * 1e3 + span.duration[1] / 1e6;
    lines.push(`${'  '.repeat(depth)}${span.name}  (+${at.toFixed(1)} ms, ${ms.toFixed(1)} ms)`);
    const children = spans.filter((child) => parentOf(child) === spanId(span) && child.spanContext().traceId === span.spanContext().traceId);
    for (const child of children.sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])) walk(child, depth + 1);
  };
  walk(root, 0);
  return lines.join('\n');
}

t.test('one trace from the agent call through the append, the projector batch, the watch and the webhook delivery', async (t) => {
  const controller = createLedgerClient({ baseUrl: ledger.url, token: ledger.controller });
  const started = await controller.startSession({ userId: 'user-1', provider: 'gemini', browserVmId: `vm-${randomUUID()}` });
  const { sessionId } = started;
  const watching = new AbortController();
  const watch = controller.watch(sessionId, { signal: watching.signal });
  await watch.next();
  const agentToken = ledger.agent(sessionId);
  const agent = createLedgerClient({ baseUrl: ledger.url, token: agentToken });
  const correlationId = `login-${randomUUID()}`;

  // The agent's own span: the client sends it as the request's parent.
  const agentTracer = trace.getTracer('oauth-agent');
  const agentSpan = await agentTracer.startActiveSpan('agent stores the credential', async (span) => {
    await agent.appendEvent(sessionId, { type: 'CredentialsStored', correlationId, data: { provider: 'gemini', credentialRef: 'cred-ref-secretive-1' } });
    span.end();
    return span;
  });
  const traceId = agentSpan.spanContext().traceId;
  const told = await within(watch.next(), 'the watch tells the completion');
  t.equal(told.value?.session.status, 'completed');
  await within(receiver.arrived('/hooks', 1), 'the webhook is delivered');
  const spans = await spansOnce('the span of the delivery', (span) => span.name === 'webhook delivery');
  watching.abort();
  await watch.return(undefined).catch(() => {});

  const inTrace = spans.filter((span) => span.spanContext().traceId === traceId);
  const named = (name: string) => inTrace.filter((span) => span.name === name);
  const one = (name: string) => {
    const found = named(name);
    t.equal(found.length, 1, `one span ${name} in the trace`);
    return found[0]!;
  };
  const request = inTrace.find((span) => span.attributes['http.route'] === '/v1/sessions/:id/events' && span.name === 'request')!;
  t.ok(request, 'the request span, in the agent\'s trace');
  t.equal(parentOf(request), spanId(agentSpan), 'its parent: the agent\'s span, sent by the client as traceparent');
  t.equal(request.attributes['http.response.status_code'], 201);

  const command = one('command RecordFact');
  const ancestors = (span: ReadableSpan): string[] => {
    const parent = inTrace.find((candidate) => spanId(candidate) === parentOf(span));
    return parent ? [spanId(parent), ...ancestors(parent)] : [];
  };
  t.ok(ancestors(command).includes(spanId(request)), 'the command runs within the request');
  t.match(command.attributes, { 'ledger.session_id': sessionId, 'ledger.correlation_id': correlationId, 'ledger.event_type': 'CredentialsStored' });
  for (const step of ['read stream', 'decide', 'store append']) t.equal(parentOf(one(step)), spanId(command), `${step}: a step of the command`);
  t.match(one('store append').attributes, { 'db.system.name': 'sqlite', 'ledger.stream': sessionStreamName(sessionId), 'ledger.already_recorded': false });

  const [stored] = (await ledger.store.readStream(sessionStreamName(sessionId))).filter((event) => event.type === 'CredentialsStored');
  t.equal(stored!.metadata.traceparent, `00-${traceId}-${spanId(command)}-01`, 'the event stores the command span as its traceparent');

  const projected = named('project CredentialsStored');
  t.same(projected.map((span) => span.attributes['ledger.projection']).sort(), ['auth_sessions', 'session_outcomes'], 'each projector applies it');
  for (const span of projected) {
    t.equal(parentOf(span), spanId(command), `${String(span.attributes['ledger.projection'])}: a child of the command, through the stored traceparent`);
    t.equal(span.attributes['ledger.correlation_id'], correlationId);
    const batch = spans.find((candidate) => spanId(candidate) === span.links[0]?.context.spanId)!;
    t.match(batch.name, /^project batch /, 'linked to its batch');
    t.ok(
      batch.links.some((link) => link.context.spanId === spanId(command)),
      'the batch, a trace of its own, links to the command of each event',
    );
  }
  const sessionsSpan = projected.find((span) => span.attributes['ledger.projection'] === 'auth_sessions')!;
  const watchMessage = one('watch message');
  t.equal(parentOf(watchMessage), spanId(sessionsSpan), "the watch's message: a child of the projector's span for the change");

  const delivery = one('webhook delivery');
  t.equal(parentOf(delivery), spanId(command), 'the delivery: a child of the command, through the stored traceparent');
  t.match(delivery.attributes, { 'ledger.webhook.subscription': 'ops', 'ledger.webhook.attempt': 1, 'ledger.webhook.outcome': 'delivered', 'ledger.correlation_id': correlationId });
  const [taken] = receiver.received;
  t.equal(taken!.headers.traceparent, `00-${traceId}-${spanId(delivery)}-01`, 'the POST carries the delivery span, so a traced receiver joins the trace');
  t.ok(new Webhook(secret).verify(taken!.body, taken!.headers), 'and its signature still verifies');
  t.equal(delivery.attributes['ledger.webhook.id'], taken!.headers['webhook-id']);

  const requestLine = ledger.logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'request' && line.route === '/v1/sessions/:id/events');
  t.equal(requestLine?.trace_id, traceId, "the request's log line names its trace");
  t.equal(requestLine?.span_id, spanId(request));

  const root = spans.find((span) => spanId(span) === spanId(agentSpan))!;
  t.comment(`the trace, as exported:\n${treeOf(spans, root)}`);
});

t.test('no token, ticket, secret or credential in any span; each delivery attempt a span of its own', async (t) => {
  const started = await ledger.call('POST', '/v1/sessions', { token: ledger.controller, body: { userId: 'user-2', provider: 'codex', browserVmId: `vm-${randomUUID()}` } });
  const { sessionId } = started.body as { sessionId: string };
  refuseOnce.add(sessionId);
  const frontend = ledger.frontend('user-2');
  const ticket = await ledger.call('POST', '/v1/watch-tickets', { token: frontend, body: { sessionId } });
  const { watch: watchPath, ticket: ticketText } = ticket.body as { watch: string; ticket: string };
  const answer = await fetch(`${ledger.url}${watchPath}`, { headers: { accept: 'text/event-stream' } });
  t.equal(answer.status, 200, 'a watch opened with its ticket');
  // A watch its page leaves: its request span ends all the same, as left.
  const leaving = new AbortController();
  const left = await fetch(`${ledger.url}/v1/sessions/${sessionId}/watch`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${frontend}` }, signal: leaving.signal });
  t.equal(left.status, 200);
  leaving.abort();
  const malformed = await ledger.call('GET', `/v1/sessions/${sessionId}`, { token: 'not.a.jwt' });
  t.equal(malformed.status, 401);
  const agentToken = ledger.agent(sessionId);
  const eventId = randomUUID();
  await ledger.call('POST', `/v1/sessions/${sessionId}/events`, {
    token: agentToken,
    body: { type: 'CredentialsStored', eventId, data: { provider: 'codex', credentialRef: 'cred-ref-secretive-2' } },
  });
  await within(receiver.arrived('/hooks', 3), 'its webhook is refused once, then delivered');
  t.match(await within(answer.text(), 'the watch ends with the completion'), /event: end/);
  // The watch's request span ends once the server has ended the watch.
  const spans = await spansOnce(
    'the span of the watch opened with a ticket, and of the delivery',
    (span) => String(span.attributes['url.path']).startsWith(`/v1/sessions/${sessionId}/watch`),
    (span) => span.attributes['ledger.event_id'] === eventId && span.attributes['ledger.webhook.outcome'] === 'delivered',
    (span) => span.attributes['ledger.request.left_by_client'] === true,
  );
  t.match(
    spans.find((span) => span.attributes['ledger.request.left_by_client'] === true)?.attributes,
    { 'http.route': '/v1/sessions/:id/watch', 'url.path': `/v1/sessions/${sessionId}/watch` },
    'the watch its page left',
  );
  const command = spans.find((span) => span.name === 'command RecordFact' && span.attributes['ledger.session_id'] === sessionId)!;
  const attempts = spans.filter((span) => span.name === 'webhook delivery' && parentOf(span) === spanId(command));
  t.same(
    attempts.map((span) => [span.attributes['ledger.webhook.attempt'], span.attributes['ledger.webhook.outcome'], span.status.code]),
    [
      [1, 'failed', SpanStatusCode.ERROR],
      [2, 'delivered', SpanStatusCode.UNSET],
    ],
    'a failed attempt and the delivery, each a child of the command',
  );
  t.match(attempts[0]!.attributes, { 'ledger.webhook.retry_in_ms': Number }, 'the failed one says when the next comes');
  t.equal(attempts[0]!.status.message, 'answered 503');
  t.same(
    receiver.received.slice(1).map((taken) => taken.headers.traceparent.split('-')[2]),
    attempts.map(spanId),
    'each POST carries its own attempt as parent',
  );
  const secrets = [ledger.controller, frontend, agentToken, ticketText, 'not.a.jwt', secret, 'cred-ref-secretive-1', 'cred-ref-secretive-2'];
  const values = (attributes: Attributes) => Object.values(attributes).map((value) => JSON.stringify(value));
  const texts = spans.flatMap((span) => [span.name, ...values(span.attributes), ...values(span.resource.attributes), ...span.events.flatMap((event) => [event.name, ...values(event.attributes ?? {})])]);
  t.ok(texts.length > 100, `${spans.length} spans, ${texts.length} names and values looked at, the watch opened with its ticket among them (its path kept without the query)`);
  for (const text of secrets) t.notOk(texts.some((value) => value.includes(text)), `${text.slice(0, 12)}… is in no span`);
});
