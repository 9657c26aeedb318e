import type { RecordedEvent } from '../events/index.js';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span } from '@opentelemetry/api';

/**
 * The ledger's spans, through the OpenTelemetry API only. Until `serve` starts the SDK
 * (`sdk.ts`, when the environment asks for traces) the API's tracer is a no-op: a span costs
 * an object and nothing is recorded or propagated, so events then carry no `traceparent`.
 */
export const tracer = trace.getTracer('session-ledger');

/** The attributes the ledger's spans carry, beside OpenTelemetry's own: ids and counts, never data, tokens or credentials. */
export const LedgerAttributes = {
  sessionId: 'ledger.session_id',
  eventId: 'ledger.event_id',
  eventType: 'ledger.event_type',
  correlationId: 'ledger.correlation_id',
  causationId: 'ledger.causation_id',
  stream: 'ledger.stream',
  revision: 'ledger.revision',
  position: 'ledger.position',
  events: 'ledger.events',
  alreadyRecorded: 'ledger.already_recorded',
  command: 'ledger.command',
  projection: 'ledger.projection',
  subscription: 'ledger.webhook.subscription',
  webhookId: 'ledger.webhook.id',
  attempt: 'ledger.webhook.attempt',
  outcome: 'ledger.webhook.outcome',
  retryInMs: 'ledger.webhook.retry_in_ms',
} as const;

/** The attributes that name a recorded event in a span about it: its id, type, place, and the ids tying it to others. */
export function eventAttributes(event: RecordedEvent): Attributes {
  const { correlationId, causationId } = event.metadata;
  return {
    [LedgerAttributes.eventId]: event.eventId,
    [LedgerAttributes.eventType]: event.type,
    [LedgerAttributes.position]: String(event.position),
    ...(correlationId && { [LedgerAttributes.correlationId]: correlationId }),
    ...(causationId && { [LedgerAttributes.causationId]: causationId }),
  };
}

/**
 * The W3C `traceparent` of the active span, as a field to spread into an event's metadata or a
 * request's headers; empty when nothing is traced.
 */
export function activeTraceparent(): { traceparent?: string } {
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent === undefined ? {} : { traceparent: carrier.traceparent };
}

/** The context of a stored `traceparent`: its span as the remote parent of what the event causes. */
export function contextOfTraceparent(traceparent: string | undefined): Context | undefined {
  if (traceparent === undefined) return undefined;
  const extracted = propagation.extract(ROOT_CONTEXT, { traceparent });
  return trace.getSpan(extracted) === undefined ? undefined : extracted;
}

/** The trace and span ids of the active span, for a log line; none when nothing is traced. */
export function activeTraceFields(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getActiveSpan();
  if (span === undefined) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  // A no-op span has the invalid all-zero ids; sampled or not, a real one is worth naming.
  if (!trace.isSpanContextValid({ traceId, spanId, traceFlags })) return undefined;
  return { trace_id: traceId, span_id: spanId };
}

export interface SpanOptions {
  attributes?: Attributes;
  links?: Link[];
  kind?: SpanKind;
  /** The parent; the active context when absent. */
  parent?: Context | undefined;
}

/**
 * Runs `work` in a span that is active while it runs (so spans and log lines inside are its
 * children) and ends with it: an error is recorded, marks the span, and is thrown on.
 */
export async function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T> | T): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(name, { attributes: options.attributes, links: options.links, kind: options.kind }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks a span failed by `error`, with the error's name and message (never a request's body or headers). */
export function markFailed(span: Span, error: unknown): void {
  const failure = error instanceof Error ? error : new Error(String(error));
  span.recordException(failure);
  span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
}

export { SpanKind };
