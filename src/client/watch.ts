import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Decimal, SessionJson } from '../contract/index.js';
import { LedgerClientError, LedgerNetworkError, LedgerProblemError, LedgerResponseError, type CallSite } from './errors.js';
import { backoffMs, backoffOf, isRetryableStatus, retryAfterMs } from './retry-policy.js';
import { sleep } from './sleep.js';
import { errorOfAnswer, urlOf, type Transport } from './transport.js';
import { traceHeaders } from './trace-headers.js';
import type { SessionStatus, WatchUpdate } from './types.js';

export interface WatchOptions {
  /** Resume after this position (the `position` of the last update you saw): only later changes come. */
  lastEventId?: string | undefined;
  /**
   * Stops the watch; the iterator then rejects with the signal's reason. `break` stops it
   * quietly. Nothing else does before the ledger says the watch is over: without a signal, a
   * watch of a ledger that never comes back waits for it forever, as an `EventSource` does.
   */
  signal?: AbortSignal | undefined;
  /**
   * A connection on which nothing arrived, not even a heartbeat, for this long is taken for
   * dead and replaced. Default 45 s: three of the ledger's 15 s heartbeats. 0 never.
   */
  idleTimeoutMs?: number | undefined;
  /**
   * Called before each wait to reconnect (a page can show "reconnecting…", a service log it);
   * the watch goes on unless this throws.
   */
  onReconnect?: ((reconnect: WatchReconnect) => void) | undefined;
}

/** Why a watch is about to reconnect, and when. */
export interface WatchReconnect {
  /** Connections in a row that brought nothing, the lost one included: 1 after a drop. */
  attempt: number;
  /** The wait before the next connection. */
  delayMs: number;
  /**
   * Why the connection was lost: the ledger's answer (a 503), or a `LedgerNetworkError`
   * (refused, cut, timed out, or a stream the server ended before the watch was over).
   */
  error: LedgerClientError;
}

const DEFAULT_IDLE_TIMEOUT_MS = 45_000;

/** Why a connection was given up, so the error handed to `onReconnect` can say so. */
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
 * A failure of the network itself (refused, reset, cut mid-stream) loses the connection.
 * Only these, our own timers and 5xx are reconnected after: any other error (a bug, a
 * contract breach) is thrown, not retried forever.
 */
function lostOnTheNetwork(error: unknown): never {
  if (error instanceof ConnectionLost) throw error;
  throw new ConnectionLost(error instanceof Error ? error.message : String(error), false, { cause: error });
}

/**
 * `GET /v1/sessions/:id/watch` as an async iterator of status changes. The first update is
 * the current status (or, resuming, the first change after `lastEventId`). The iterator ends
 * at `completed`, or when the ledger says the watch is over (an `end` event, or 204 to a
 * resume: a `failed` or `cancelled` session past its grace period, in which a late
 * `CredentialsStored` could still complete it).
 * A watch is a long-lived reader: a connection that drops, fails, or that the server closes
 * before then (a restart, the end of the grace period) is reopened with `Last-Event-ID`, until
 * the signal aborts, as a browser's `EventSource` does. The ledger replays the changes after
 * it, so none is missed, and the iterator skips any position it has already given, so none
 * is repeated. Between connections that bring nothing it backs off (the client's
 * `retryDelayMs`, doubling up to `maxRetryDelayMs`, with jitter); a server's `retry:` raises
 * where the backoff starts, a 503's `Retry-After` lengthens a wait (never shortens it). Problems before the stream
 * opens (401, 403, 404, 429) are thrown as `LedgerProblemError`.
 */
export async function* watchSession(transport: Transport, sessionId: string, options: WatchOptions = {}): AsyncGenerator<WatchUpdate, void, undefined> {
  const { baseUrl, token, timeoutMs, fetch } = transport.options;
  const backoff = backoffOf(transport.options);
  const { signal, idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS, onReconnect } = options;
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
        const headers: Record<string, string> = { ...traceHeaders(), authorization: `Bearer ${token}`, accept: 'text/event-stream', 'cache-control': 'no-cache' };
        if (last !== undefined) headers['last-event-id'] = last;
        response = await fetch(site.url, { headers, signal: connectionSignal }).catch(lostOnTheNetwork);
      } finally {
        clearTimeout(opening);
      }
      if (!response.ok) {
        const error = errorOfAnswer(response, await response.text().catch(lostOnTheNetwork), site);
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
        const start = (await response.text().catch(lostOnTheNetwork)).slice(0, 200);
        throw new LedgerResponseError(site, response.status, 'a watch answer that is not text/event-stream', start);
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
        const { done, value } = await reader.read().catch(lostOnTheNetwork);
        if (done) break;
        // Anything at all, a heartbeat included, shows the connection worked: a watch of a
        // quiet session that survives many separate drops over hours starts its backoff afresh.
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
      // One of our timers cut the connection: its reason says why, whatever the read threw.
      const cut: unknown = connection.signal.reason;
      if (cut instanceof ConnectionLost) lost = cut;
      else if (error instanceof ConnectionLost) lost = error;
      else throw error;
      // Nothing comes after completed: a drop then loses nothing.
      if (status === 'completed') return;
    } finally {
      clearTimeout(idle);
      connection.abort();
    }
    failures++;
    // The server may ask for a longer start (its `retry:` as it shuts down), never a shorter one.
    const start = Math.max(backoff.initialMs, serverRetryMs ?? 0);
    // A 503's Retry-After lengthens the wait, never shortens it below the backoff: a `Retry-After: 0`
    // on every answer would otherwise have the watch ask again at once, for ever.
    const delayMs = Math.max(waitMs ?? 0, backoffMs({ ...backoff, initialMs: start }, failures));
    // The error a bounded call would have thrown: the last answer (a 503), else the network's failure.
    const error = lost.cause instanceof LedgerClientError ? lost.cause : new LedgerNetworkError(site, failures, lost.timedOut, lost.cause ?? lost);
    onReconnect?.({ attempt: failures, delayMs, error });
    await sleep(delayMs, signal);
  }

  /**
   * A resumed stream the server ended without a change is a session that was already
   * completed at `position` (nothing more will come), or one the ledger may still tell of
   * (it answers the next resume with 204 once the watch is over): the session as of that
   * position tells which. A ledger that cannot say now (gone, or 5xx) is a lost connection.
   */
  async function completedAt(position: string): Promise<boolean> {
    try {
      const { body } = await transport.request({ method: 'GET', path: `/v1/sessions/${encodeURIComponent(sessionId)}`, query: { asOf: position }, answer: SessionJson, signal });
      status = body.status;
      return body.status === 'completed';
    } catch (error) {
      if (error instanceof LedgerNetworkError || (error instanceof LedgerProblemError && isRetryableStatus(error.status))) {
        throw new ConnectionLost(error.message, false, { cause: error });
      }
      throw error;
    }
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
