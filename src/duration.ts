import { z } from 'zod';

const SECONDS_PER_UNIT = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/**
 * A length of time as an operator types it: a whole number of seconds, or with the unit
 * `s`, `m`, `h` or `d` (`90`, `15m`, `8h`, `1d`). Parses to seconds.
 */
export const Duration = z
  .string()
  .regex(/^\d+[smhd]?$/, 'a number of seconds, or with s, m, h or d (e.g. 90, 15m, 8h, 1d)')
  .transform((text) => Number.parseInt(text, 10) * SECONDS_PER_UNIT[(/[smhd]$/.exec(text)?.[0] ?? 's') as keyof typeof SECONDS_PER_UNIT]);
