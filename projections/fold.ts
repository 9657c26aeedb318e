import type { RecordedEvent } from '../src/events/index.js';
import { evolve } from './evolve.js';
import { initialState, type SessionState } from './session-state.js';

/**
 * Folds events, in the order given, onto `from`. Starting from an earlier fold's state lets
 * the projector and time-travel reads resume where they stopped:
 * `fold(rest, fold(prefix))` equals `fold([...prefix, ...rest])`.
 */
export function fold(events: Iterable<RecordedEvent>, from: SessionState = initialState): SessionState {
  let state = from;
  for (const event of events) state = evolve(state, event);
  return state;
}
