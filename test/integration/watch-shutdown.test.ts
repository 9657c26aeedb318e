/**
 * A ledger that shuts down tells each open watch when to come back before it closes the
 * stream: SSE's `retry:` field, which a browser's `EventSource` takes as its reconnection
 * time and the typed client as the start of its backoff. Both kinds of watch: a session's,
 * and the list feed the console follows.
 */
import t from 'tap';
import { StartedJson } from '../../src/contract/index.js';
import { RESTART_RETRY_MS } from '../../src/http/live-stream.js';
import { startLedger } from '../support/ledger-server.js';

/** The raw blocks of an SSE stream (the text between blank lines), heartbeats left out. */
const blocksOf = (text: string) =>
  text
    .split('\n\n')
    .filter((block) => block !== '' && !block.startsWith(':'))
    .map((block) => block.split('\n'));

t.test('on shutdown, every open watch gets a retry: hint as its last block, then the stream ends', async (t) => {
  const ledger = await startLedger();
  let closed = false;
  t.teardown(() => (closed ? undefined : ledger.close()));
  const started = StartedJson.parse(
    (await ledger.call('POST', '/v1/sessions', { token: ledger.controller, body: { userId: 'user-1', provider: 'gemini', browserVmId: 'vm-shutdown' } })).body,
  );
  const open = (path: string, token: string) =>
    fetch(`${ledger.url}${path}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: AbortSignal.timeout(20_000) });
  // fetch resolves at the headers, which the ledger writes with a stream's first event: both are open.
  const sessionWatch = await open(`/v1/sessions/${started.sessionId}/watch`, ledger.controller);
  const listWatch = await open('/v1/sessions/watch', ledger.auditor);
  const texts = Promise.all([sessionWatch.text(), listWatch.text()]);

  await ledger.close();
  closed = true;
  const [sessionText, listText] = await texts;
  const session = blocksOf(sessionText);
  const list = blocksOf(listText);

  const withoutData = (blocks: string[][]) => blocks.map((block) => block.filter((line) => !line.startsWith('data:')));
  t.same(
    withoutData(session),
    [[`id: ${started.position}`, 'event: status'], [`retry: ${RESTART_RETRY_MS}`]],
    "the session's status, then the hint; no `end`: the watch is not over, the server is going away",
  );
  t.match(session[0], [/^id/, /^event/, /^data: \{.*"status":"pending"/]);
  t.same(list.at(-1), [`retry: ${RESTART_RETRY_MS}`], "the list feed's last block too");
  t.match(list[0], ['event: live', /^data: /]);
  t.ok(RESTART_RETRY_MS >= 1000, 'a restart takes seconds: the hint does not ask for an immediate reconnection');
});
