/**
 * Waits until a reading stops changing: the value once `steadyPolls` polls in a row saw
 * the same, or `undefined` if it still changed after `maxPolls`. For "how far did it get
 * before it stopped" and "did it stop", asked without timing anything.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export async function settled<T extends number | boolean>(
  read: () => T,
  { pollMs = 20, steadyPolls = 5, maxPolls = 250 }: { pollMs?: number; steadyPolls?: number; maxPolls?: number } = {},
): Promise<T | undefined> {
  let last = read();
  let steady = 0;
  for (let poll = 0; poll < maxPolls; poll++) {
    await sleep(pollMs);
    const now = read();
    steady = now === last ? steady + 1 : 0;
    last = now;
    if (steady >= steadyPolls) return now;
  }
  return undefined;
}
