import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError, DeadlineExceededError, NotLeaderError, UnavailableError } from '@eventstore/db-client';
import { StoreUnavailableError } from '../errors.js';

/**
 * Errors that say the connection, not the request, failed: the client reconnects (to the
 * leader, after a `NotLeaderError`) for the next call, so the same call can be made again.
 * The first call after a dropped connection fails so even when the server is back.
 */
export function isConnectionLoss(error: unknown): boolean {
  return (
    error instanceof UnavailableError ||
    // Calls in flight on a channel the client closes after a drop; the adapter cancels none itself.
    error instanceof CancelledError ||
    error instanceof NotLeaderError ||
    error instanceof DeadlineExceededError ||
    // Gossip found no node to talk to; the client's discovery has already tried again.
    (error instanceof Error && error.message.startsWith('Failed to discover'))
  );
}

export interface ReconnectPolicy {
  /** Calls in all, the first included. */
  attempts: number;
  /** Pause before the second call; doubled before each further one. */
  delayMs: number;
}

/**
 * Makes `call` again after a lost connection, and reports a store that stays out of reach as
 * `StoreUnavailableError`. Only for calls that are safe to make twice: the adapter's reads,
 * and its appends, which read the stream before writing and so find an earlier attempt.
 */
export async function reconnecting<T>(call: () => Promise<T>, { attempts, delayMs }: ReconnectPolicy): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isConnectionLoss(error)) throw error;
      if (attempt >= attempts) throw new StoreUnavailableError({ cause: error });
      await sleep(delayMs * 2 ** (attempt - 1));
    }
  }
}
