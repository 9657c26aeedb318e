import { context, propagation } from '@opentelemetry/api';

/**
 * The caller's active trace, as headers (W3C `traceparent`, and whatever else the caller's
 * propagator sends): the ledger's spans for the request, and for the events it records, join
 * the caller's trace. Through OpenTelemetry's API alone: empty unless the caller runs an SDK.
 */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}
