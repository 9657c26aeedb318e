/**
 * Tells every open watch that the server is shutting down. Not an `AbortSignal`: Node's
 * `EventTarget` looks through all of a signal's listeners to add one (for duplicates) and to
 * remove one, so 10,000 watches on one signal cost 10,000² steps to open and as many again to
 * end (a third of a fan-out's time, measured); a `Set` adds and removes in one.
 */
export interface ShutdownNotice {
  readonly given: boolean;
  /** Calls `listener` once, at the shutdown (never when it was given already); returns the unsubscribe. */
  onShutdown(listener: () => void): () => void;
}

export interface ShutdownNotifier extends ShutdownNotice {
  /** Gives the notice: every listener is called once, and later ones never. */
  give(): void;
}

export function createShutdownNotice(): ShutdownNotifier {
  const listeners = new Set<() => void>();
  let given = false;
  return {
    get given() {
      return given;
    },
    onShutdown(listener) {
      if (given) return () => {};
      // Each its own entry, even the same function twice: each stream unsubscribes its own.
      const entry = () => listener();
      listeners.add(entry);
      return () => listeners.delete(entry);
    },
    give() {
      if (given) return;
      given = true;
      for (const listener of [...listeners]) listener();
      listeners.clear();
    },
  };
}
