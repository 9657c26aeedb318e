import type { FastifyOtelInstrumentation } from '@fastify/otel';

/** Where spans go, as OTEL_TRACES_EXPORTER names them. */
export type TraceExporterName = 'otlp' | 'console' | 'none';

export interface TracingSettings {
  /** OTEL_TRACES_EXPORTER; absent: `otlp` when OTEL_EXPORTER_OTLP_ENDPOINT is set, else no tracing. */
  exporters?: readonly TraceExporterName[] | undefined;
  /** OTEL_EXPORTER_OTLP_ENDPOINT; the OTLP exporter reads it (and its other OTEL_EXPORTER_OTLP_* settings) itself. */
  otlpEndpoint?: string | undefined;
  /** The ledger's version, on the resource beside `service.name`. */
  serviceVersion?: string | undefined;
}

/** The started SDK (`sdk.ts`): the requests' instrumentation for the HTTP app, and the flush at exit. */
export interface Tracing {
  /** `@fastify/otel`: a span per request, the parent of the command's. */
  readonly requests: FastifyOtelInstrumentation;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** The exporters the settings ask for; none means tracing stays off. */
export function exportersOf(settings: TracingSettings): TraceExporterName[] {
  const named = settings.exporters ?? (settings.otlpEndpoint === undefined ? [] : ['otlp']);
  return named.includes('none') ? [] : [...new Set(named)];
}

