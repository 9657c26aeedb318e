import type { RecordedEvent } from '../../events/index.js';
import type { Subscription, SubscriptionMessage } from '../port.js';
import type { AppendSignal } from './append-signal.js';

export interface LiveSubscriptionSource {
  /** The next events after `after`, in position order, at most `pageSize`. */
  readPage(after: bigint, pageSize: number): RecordedEvent[];
  signal: AppendSignal;
  /** How long to wait before looking for appends made by another process. */
  foreignAppendCheckMs: number;
}

const PAGE_SIZE = 500;

/**
 * Catch-up, then live: reads pages until one comes back short, says `caughtUp`, then
 * sleeps on the append signal and reads again each time it wakes. The signal's version is
 * read before each query, so an append that lands between the query and the sleep still
 * wakes it at once.
 */
export function liveSubscription(
  source: LiveSubscriptionSource,
  after: bigint,
  onEnd: (subscription: Subscription) => void,
): Subscription {
  const abort = new AbortController();
  let position = after;
  const end = () => {
    abort.abort();
    onEnd(subscription);
  };

  async function* messages(): AsyncGenerator<SubscriptionMessage> {
    try {
      let caughtUp = false;
      while (!abort.signal.aborted) {
        const seen = source.signal.version;
        const page = source.readPage(position, PAGE_SIZE);
        for (const event of page) {
          if (abort.signal.aborted) return;
          position = event.position;
          yield { kind: 'event', event };
        }
        if (page.length === PAGE_SIZE) continue;
        if (!caughtUp) {
          caughtUp = true;
          yield { kind: 'caughtUp' };
        }
        await source.signal.wait(seen, source.foreignAppendCheckMs, abort.signal);
      }
    } finally {
      end();
    }
  }

  const iterator = messages();
  const subscription: Subscription = {
    [Symbol.asyncIterator]: () => iterator,
    // Also ends a subscription whose loop never started (a generator's `finally` would not run).
    close: async () => end(),
  };
  return subscription;
}
