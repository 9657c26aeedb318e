import type { SSEMessage } from '@fastify/sse';
import type { FastifyReply } from 'fastify';
import { LONGEST_TIMER_MS } from '../timers.js';
import type { ShutdownNotice } from './shutdown-notice.js';

/**
 * What a watch is told when the server shuts down (SSE's `retry:`, in ms): come back in about
 * this long. A restart takes seconds; without it every client would come back at its own
 * shortest delay, all at once, to a port nobody listens on yet. A browser's `EventSource`
 * takes it as its reconnection time, the typed client as where its backoff starts.
 */
export const RESTART_RETRY_MS = 2000;

/**
 * One open Server-Sent Events stream and the changes waiting to go out on it: a listener
 * pushes, the route's loop takes and sends. The client leaving, the server shutting down
 * (with a `retry:` hint first) or `close()` ends it, even mid-write: a write to a socket that
 * is going away may never call back, so every wait here also ends when the stream does.
 */
export interface LiveStream<T> {
  /** Queues a change (from a listener, which must not wait). */
  push(item: T): void;
  /** The queued changes; waits for one when none is queued, for at most `waitMs` (default: until the stream ends). */
  take(waitMs?: number): Promise<T[]>;
  /** Sends one message; a client that left is not an error. */
  send(message: SSEMessage): Promise<void>;
  /** True once the client left, the server shut down, or `close()` was called. */
  readonly ended: boolean;
  close(): void;
}

export function openLiveStream<T>(reply: FastifyReply, shutdown: ShutdownNotice): LiveStream<T> {
  const queued: T[] = [];
  let wake: (() => void) | null = null;
  // A flag and a promise, not an AbortController: aborting one builds a DOMException (with
  // its stack) and dispatches an event, which 10,000 watches ending at once pay 10,000 times.
  let stopped = false;
  let resolveStopped: () => void = () => {};
  const stoppedPromise = new Promise<void>((resolve) => (resolveStopped = resolve));
  let unsubscribe: () => void = () => {};
  const stop = () => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    resolveStopped();
  };
  reply.sse.onClose(stop);
  const ended = () => stopped || !reply.sse.isConnected;
  const goodbye = () => {
    // Written at once, so before the stream's end; only to a stream that is open (its
    // headers out): one still being set up answers as its route decides. A client that
    // left meanwhile is not an error.
    if (reply.raw.headersSent && !ended()) reply.sse.send({ data: undefined, retry: RESTART_RETRY_MS }).catch(() => undefined);
    stop();
  };
  // A notice given already is never told again: a stream opened as the server shuts down ends now.
  if (shutdown.given) goodbye();
  else unsubscribe = shutdown.onShutdown(goodbye);

  return {
    push(item) {
      queued.push(item);
      wake?.();
    },

    async take(waitMs = Infinity) {
      if (queued.length === 0 && !ended()) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => {
            wake = resolve;
            if (Number.isFinite(waitMs)) timer = setTimeout(resolve, Math.min(Math.max(0, waitMs), LONGEST_TIMER_MS));
          }),
          stoppedPromise,
        ]);
        clearTimeout(timer);
        wake = null;
      }
      return queued.splice(0);
    },

    send(message) {
      return Promise.race([
        reply.sse.send(message).catch((error: unknown) => {
          // A client that left is no error of ours; anything else is.
          if (!ended()) throw error;
        }),
        stoppedPromise,
      ]);
    },

    get ended() {
      return ended();
    },

    close() {
      stop();
    },
  };
}
