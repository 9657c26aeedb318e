/**
 * The longest delay a Node timer keeps (2^31 - 1 ms, about 24.8 days): a longer one fires at
 * once, so a wait meant to be that long is clamped, and an interval that long is refused.
 */
export const LONGEST_TIMER_MS = 2 ** 31 - 1;
