import type { Anomaly, SessionState } from '../../projections/index.js';

/**
 * The read model keeps each session's whole fold state, so the projector can apply the next
 * event to it without rereading the stream. JSON has no bigint: revisions and positions are
 * stored as decimal strings, as the HTTP API writes them.
 */

/** The JSON shape of a value: every bigint in it becomes a decimal string. */
type Stored<T> = T extends bigint
  ? string
  : T extends readonly (infer U)[]
    ? Stored<U>[]
    : T extends object
      ? { [K in keyof T]: Stored<T[K]> }
      : T;

/** An anomaly as stored, its keys in the fold's order. */
const storedAnomaly = (anomaly: Anomaly): Stored<Anomaly> => ({ ...anomaly, position: String(anomaly.position) });

/**
 * The state as stored, its keys in the state's own order. Each bigint field is named here, as in
 * `foldStateFromJson`: JSON.stringify with a replacer was the same text, at several times the
 * cost, since it calls the replacer for every key of every state the projector writes.
 */
const storedState = (state: SessionState): Stored<SessionState> => ({
  ...state,
  revision: String(state.revision),
  position: state.position === null ? null : String(state.position),
  failure: state.failure === null ? null : { ...state.failure, position: String(state.failure.position) },
  anomalies: state.anomalies.map(storedAnomaly),
});

export function anomaliesToJson(anomalies: readonly Anomaly[]): string {
  return anomalies.length === 0 ? '[]' : JSON.stringify(anomalies.map(storedAnomaly));
}

const anomalyOf = ({ kind, position, at }: Stored<Anomaly>): Anomaly => ({ kind, position: BigInt(position), at });

export function anomaliesFromJson(json: string): Anomaly[] {
  return (JSON.parse(json) as Stored<Anomaly>[]).map(anomalyOf);
}

export function foldStateToJson(state: SessionState): string {
  return JSON.stringify(storedState(state));
}

/**
 * Each bigint field is named here; `Stored` makes a new bigint field of SessionState a type
 * error in this function until it is converted too.
 */
export function foldStateFromJson(json: string): SessionState {
  const stored = JSON.parse(json) as Stored<SessionState>;
  return {
    ...stored,
    revision: BigInt(stored.revision),
    position: stored.position === null ? null : BigInt(stored.position),
    failure: stored.failure === null ? null : { ...stored.failure, position: BigInt(stored.failure.position) },
    anomalies: stored.anomalies.map(anomalyOf),
  };
}
