import { trace, type Context, type Span } from '@opentelemetry/api';
import { sessionIdOfStream, type RecordedEvent } from '../events/index.js';
import { noteCause } from '../tracing/causes.js';
import { contextOfTraceparent, eventAttributes, LedgerAttributes, markFailed, tracer } from '../tracing/tracer.js';
import type { SessionRow } from './session-row.js';

/** The spans of one projector batch, from its start to its commit. */
export interface BatchSpans {
  /** Marks the batch written (or failed), notes each changed row's cause for the watches, and ends the spans. */
  end(rows: readonly SessionRow[], failure?: unknown): void;
}

/**
 * A batch holds events of many requests, so it is a span of its own, linked to each event's
 * command. Live, each traced event also gets a span in its request's trace, a child of the
 * command that recorded it, lasting until the batch is committed: in one trace, the request,
 * the append and the moment the read model showed it. A catch-up (a restart, a rebuild) makes
 * only its batch spans: a span per event of a replayed log would flood the collector with
 * spans for traces long closed. Events recorded untraced (no `traceparent`) get none.
 */
export function startBatchSpans(projection: string, events: readonly RecordedEvent[], live: boolean): BatchSpans {
  const causes = events.map((event) => contextOfTraceparent(event.metadata.traceparent));
  const batch = tracer.startSpan(`project batch ${projection}`, {
    root: true,
    links: causes.flatMap((cause) => (cause === undefined ? [] : [{ context: trace.getSpanContext(cause)! }])),
    attributes: {
      [LedgerAttributes.projection]: projection,
      [LedgerAttributes.events]: events.length,
      'ledger.first_position': String(events[0]?.position ?? 0n),
      'ledger.last_position': String(events.at(-1)?.position ?? 0n),
      'ledger.live': live,
    },
  });
  const applied: Span[] = [];
  // The last traced event of each session: the cause of the row the batch leaves.
  const causeBySession = new Map<string, Context>();
  events.forEach((event, index) => {
    const parent = causes[index];
    if (!live || parent === undefined) return;
    const span = tracer.startSpan(
      `project ${event.type}`,
      {
        links: [{ context: batch.spanContext() }],
        attributes: { [LedgerAttributes.projection]: projection, ...eventAttributes(event) },
      },
      parent,
    );
    applied.push(span);
    const sessionId = sessionIdOfStream(event.streamName);
    if (sessionId !== null) causeBySession.set(sessionId, trace.setSpan(parent, span));
  });

  return {
    end(rows, failure) {
      for (const span of [batch, ...applied]) {
        if (failure !== undefined) markFailed(span, failure);
        span.end();
      }
      if (causeBySession.size === 0) return;
      for (const row of rows) {
        const cause = causeBySession.get(row.sessionId);
        if (cause !== undefined) noteCause(row, cause);
      }
    },
  };
}
