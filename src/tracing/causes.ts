import type { Context } from '@opentelemetry/api';

/**
 * The span that caused a change, kept beside the change itself (a read-model row handed to
 * the watches) without a field on it: the watch's message span is then a child of the
 * projector's span for the event, in the trace of the request that recorded it.
 */
const causes = new WeakMap<object, Context>();

export function noteCause(change: object, cause: Context): void {
  causes.set(change, cause);
}

/** The span that caused `change`, when it was traced. */
export function causeOf(change: object): Context | undefined {
  return causes.get(change);
}
