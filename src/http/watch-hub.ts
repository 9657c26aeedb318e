import type { Projector } from '../projector/projector-port.js';
import type { SessionRow } from '../projector/session-row.js';
import { ProblemError } from './problem-error.js';
import { createShutdownNotice, type ShutdownNotice } from './shutdown-notice.js';

export interface WatchLimits {
  /** Open watches one token (role and subject) may hold. */
  perToken: number;
  /** Open watches the whole server holds. */
  total: number;
}

/**
 * Fans the projector's committed changes out to the live watches of each session: one
 * projector listener however many watchers there are, and no database read per watcher.
 * Also bounds how many watches are open, per token and in total.
 */
export interface WatchHub {
  /** Given when the server closes: every watch ends. */
  readonly shutdown: ShutdownNotice;
  /** Ends every watch and stops following the projector. */
  close(): void;
  readonly open: number;
  /** Counts a watch for `token`; throws a 429/503 problem past the bounds. Returns its release. */
  admit(token: string): () => void;
  /** Calls `listener` with each committed row of the session; returns the unsubscribe. */
  follow(sessionId: string, listener: (row: SessionRow) => void): () => void;
  /** Calls `listener` with every committed row, whatever the session; returns the unsubscribe. */
  followAll(listener: (row: SessionRow) => void): () => void;
}

export function createWatchHub(projector: Pick<Projector, 'onChange'>, limits: WatchLimits): WatchHub {
  const bySession = new Map<string, Set<(row: SessionRow) => void>>();
  const ofAll = new Set<(row: SessionRow) => void>();
  const byToken = new Map<string, number>();
  const shutdown = createShutdownNotice();
  let open = 0;

  const unfollowProjector = projector.onChange((rows) => {
    for (const row of rows) {
      for (const listener of bySession.get(row.sessionId) ?? []) listener(row);
      for (const listener of ofAll) listener(row);
    }
  });

  return {
    shutdown,
    close() {
      unfollowProjector();
      shutdown.give();
    },

    get open() {
      return open;
    },

    admit(token) {
      if (open >= limits.total) {
        throw new ProblemError('unavailable', `the ledger serves ${limits.total} watches at most; retry later`, {}, { 'retry-after': '5' });
      }
      const held = byToken.get(token) ?? 0;
      if (held >= limits.perToken) {
        throw new ProblemError('too-many-watches', `this token already holds ${held} watches, the most it may`);
      }
      byToken.set(token, held + 1);
      open++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        open--;
        const left = (byToken.get(token) ?? 1) - 1;
        if (left === 0) byToken.delete(token);
        else byToken.set(token, left);
      };
    },

    follow(sessionId, listener) {
      const listeners = bySession.get(sessionId) ?? new Set();
      listeners.add(listener);
      bySession.set(sessionId, listeners);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) bySession.delete(sessionId);
      };
    },

    followAll(listener) {
      ofAll.add(listener);
      return () => ofAll.delete(listener);
    },
  };
}
