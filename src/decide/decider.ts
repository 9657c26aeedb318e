import { evolve, initialState } from '../../projections/index.js';
import { decide } from './decide.js';

/**
 * The session as a Decider: `decide` what a command records given the state, `evolve` the
 * state by each recorded fact, from `initialState`. All three are pure; the command handler
 * is the only place they meet the store.
 */
export const sessionDecider = { decide, evolve, initialState } as const;
export type SessionDecider = typeof sessionDecider;
