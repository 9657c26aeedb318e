import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Decimal, SessionJson } from '../contract/index.js';
import { LedgerClientError, LedgerNetworkError, LedgerResponseError, type CallSite } from './errors.js';
import { backoffMs, isRetryableStatus, retryAfterMs } from './retry-policy.js';
import { sleep } from './sleep.js';
import { errorOfAnswer, urlOf, type Transport } from './transport.js';
import type { SessionStatus, WatchUpdate } from './types.js';

export interface WatchOptions {
  /** Resume after this position (the `position` of the last update you saw): only later changes come. */
  lastEventId?: string | undefined;
  /** Stops the watch; the iterator then rejects with the signal's reason. `break` stops it quietly. */
  signal?: AbortSignal | undefined;
  /**
   * A connection on which nothing arrived, not even a heartbeat, for this long is taken for
   * dead and replaced. Default 45 s: three of the ledger's 15 s heartbeats. 0 never.
   */
  idleTimeoutMs?: number | undefined;
}

const DEFAULT_IDLE_TIMEOUT_MS = 45_000;

/** Why a connection was given up, so the error after the last attempt can say so. */
class ConnectionLost extends Error {
  override readonly name = 'ConnectionLost';
  constructor(
    message: string,
    readonly timedOut: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * `GET /v1/sessions/:id/watch` as an async iterator of status changes. The first update is
 * the current status (or, resuming, the first change after `lastEventId`). The iterator ends
 * at `completed`, or when the ledger says the watch is over (an `end` event, or 204 to a
 * resume: a `failed` or `cancelled` session past its grace period, in which a late
 * `CredentialsStored` could still complete it).
 * A connection that drops, or that the server closes before then (a restart, the end of the
 * grace period), is reopened with `Last-Event-ID`: the ledger replays the changes after it,
 * so none is missed, and the iterator skips any position it has already given, so none is
 * repeated. At most `retries` reconnections in a row on which nothing arrived, with backoff;
 * then a `LedgerNetworkError`. Problems before the stream opens (401, 403, 404, 429) are
 * thrown as `LedgerProblemError`.
 */
export async function* watchSession(transport: Transport, sessionId: string, options: WatchOptions = {}): AsyncGenerator<WatchUpdate, void, undefined> {
  const { baseUrl, token, timeoutMs, retries, retryDelayMs, fetch } = transport.options;
  const { signal, idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS } = options;
  const path = `/v1/sessions/${encodeURIComponent(sessionId)}/watch`;
  const site: CallSite = { method: 'GET', url: urlOf(baseUrl, path) };
  let last = options.lastEventId;
  /** The status of the last update given; unknown on a resume until a change comes. */
  let status: SessionStatus | undefined;
  /** Connections in a row on which nothing arrived. */
  let failures = 0;
  /** The server's `retry:` field: its wish for the reconnection delay. */
  let serverRetryMs: number | undefined;

  for (;;) {
    signal?.throwIfAborted();
    const connection = new AbortController();
    const connectionSignal = signal ? AbortSignal.any([signal, connection.signal]) : connection.signal;
    const lose = (reason: ConnectionLost) => connection.abort(reason);
    // Time-boxes the opening only: once the stream is open, the idle timer watches it.
    const opening = setTimeout(() => lose(new ConnectionLost(`no answer within ${timeoutMs} ms`, true)), timeoutMs);
    let idle: ReturnType<typeof setTimeout> | undefined;
    let lost: ConnectionLost;
    let waitMs: number | undefined;
    try {
      let response: Response;
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'cache-control': 'no-cache' };
        if (last !== undefined) headers['last-event-id'] = last;
        response = await fetch(site.url, { headers, signal: connectionSignal });
      } finally {
        clearTimeout(opening);
      }
      if (!response.ok) {
        const error = errorOfAnswer(response, await response.text(), site);
        if (!isRetryableStatus(response.status)) throw error;
        waitMs = retryAfterMs(response.headers.get('retry-after'));
        throw new ConnectionLost(error.message, false, { cause: error });
      }
      // SSE's own "stop, do not reconnect".
      if (response.status === 204) return;
      // An empty answer is a stream that ended before its first event (the ledger answers a
      // resumed watch with nothing to tell that way, without an event-stream content type).
      const empty = response.headers.get('content-length') === '0';
      if (!empty && !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        throw new LedgerResponseError(site, response.status, 'a watch answer that is not text/event-stream', (await response.text()).slice(0, 200));
      }

      const messages: EventSourceMessage[] = [];
      const parser = createParser({ onEvent: (message) => void messages.push(message), onRetry: (ms) => (serverRetryMs = ms) });
      const decoder = new TextDecoder();
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      // Re-armed at each chunk by clearing and setting: a browser's timer is a number, without Node's refresh().
      const stillAlive = () => {
        clearTimeout(idle);
        if (idleTimeoutMs > 0) idle = setTimeout(() => lose(new ConnectionLost(`nothing received for ${idleTimeoutMs} ms`, true)), idleTimeoutMs);
      };
      stillAlive();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        // Anything at all, a heartbeat included, shows the connection worked: a watch of a
        // quiet session that survives many separate drops over hours is not failing.
        failures = 0;
        stillAlive();
        parser.feed(decoder.decode(value, { stream: true }));
        for (const message of messages.splice(0)) {
          if (message.event === 'end') return; // the ledger says the watch is over
          if (message.event !== 'status') continue; // other kinds of event are not this client's
          const update = updateOf(message, site);
          if (last !== undefined && BigInt(update.position) <= BigInt(last)) continue;
          last = update.position;
          status = update.session.status;
          yield update;
        }
      }
      if (status === 'completed') return;
      if (status === undefined && last !== undefined && (await completedAt(last))) return;
      // A failed or cancelled session may still complete: the ledger says when the watch is over.
      lost = new ConnectionLost('the server ended the stream before the watch was over', false);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (connection.signal.aborted && connection.signal.reason instanceof ConnectionLost) lost = connection.signal.reason;
      else if (error instanceof ConnectionLost) lost = error;
      else if (error instanceof TypeError || (error instanceof Error && error.name === 'AbortError')) lost = new ConnectionLost(error.message, false, { cause: error });
      else throw error;
      // Nothing comes after completed: a drop then loses nothing.
      if (status === 'completed') return;
    } finally {
      clearTimeout(idle);
      connection.abort();
    }
    failures++;
    if (failures > retries) {
      // As for a call: the last answer when there was one (a 503), else the network's failure.
      if (lost.cause instanceof LedgerClientError) throw lost.cause;
      throw new LedgerNetworkError(site, failures, lost.timedOut, lost.cause ?? lost);
    }
    await sleep(waitMs ?? backoffMs(serverRetryMs ?? retryDelayMs, failures), signal);
  }

  /**
   * A resumed stream the server ended without a change is a session that was already
   * completed at `position` (nothing more will come), or one the ledger may still tell of
   * (it answers the next resume with 204 once the watch is over): the session as of that
   * position tells which.
   */
  async function completedAt(position: string): Promise<boolean> {
    const { body } = await transport.request({ method: 'GET', path: `/v1/sessions/${encodeURIComponent(sessionId)}`, query: { asOf: position }, answer: SessionJson, signal });
    status = body.status;
    return body.status === 'completed';
  }
}

/** A `status` message as an update: the id is the position, the data the session JSON. */
function updateOf(message: EventSourceMessage, site: CallSite): WatchUpdate {
  const position = Decimal.safeParse(message.id);
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    // Reported below as a session that does not match its schema.
  }
  const session = SessionJson.safeParse(data);
  if (!position.success || !session.success) {
    throw new LedgerResponseError(site, 200, 'a status event without a decimal id or a session as its data', message.data.slice(0, 200));
  }
  return { position: position.data, session: session.data };
}
