/**
 * Waits `ms`, or rejects with the signal's own reason as soon as it aborts, the way `fetch`
 * does (node:timers/promises would reject with a generic AbortError instead), so a caller
 * that aborts a call gets back the reason it gave, whether an attempt or a wait was running.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // The reason as the caller gave it, Error or not, as `fetch` rejects with it.
    const abort = () => reject(signal!.reason as Error);
    if (signal?.aborted) return abort();
    const onAbort = () => {
      clearTimeout(timer);
      abort();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
