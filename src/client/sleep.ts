/**
 * Waits `ms`, or rejects with the signal's own reason as soon as it aborts, the way `fetch`
 * does (node:timers/promises would reject with a generic AbortError instead), so a caller
 * that aborts a call gets back the reason it gave, whether an attempt or a wait was running.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
