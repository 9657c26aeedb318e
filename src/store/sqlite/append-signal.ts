import { realpathSync } from 'node:fs';

/**
 * Wakes live subscriptions when an append commits, so they neither sleep through it nor
 * poll the database in a loop. One signal per database file, shared by every connection
 * to it in this process.
 */
export class AppendSignal {
  #version = 0;
  readonly #waiters = new Set<() => void>();

  /** Changes at every append; read it before a query, and wait on it after. */
  get version(): number {
    return this.#version;
  }

  notify(): void {
    this.#version++;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /**
   * Resolves once an append has happened since `seenVersion`, after `timeoutMs` (appends by
   * other processes are seen only by looking), or when `abort` fires, whichever is first.
   */
  wait(seenVersion: number, timeoutMs: number, abort: AbortSignal): Promise<void> {
    if (this.#version !== seenVersion || abort.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        abort.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      abort.addEventListener('abort', done);
      this.#waiters.add(done);
    });
  }
}

const signals = new Map<string, { signal: AppendSignal; users: number }>();

/** The signal of a database file; call `release` when the connection closes. */
export function appendSignalFor(path: string): { signal: AppendSignal; release: () => void } {
  const key = realpathSync(path);
  const entry = signals.get(key) ?? { signal: new AppendSignal(), users: 0 };
  entry.users++;
  signals.set(key, entry);
  let released = false;
  return {
    signal: entry.signal,
    release: () => {
      if (released) return;
      released = true;
      if (--entry.users === 0) signals.delete(key);
    },
  };
}
