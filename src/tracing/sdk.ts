import { FastifyOtelInstrumentation } from '@fastify/otel';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { FastifyRequest } from 'fastify';
import type { Span } from '@opentelemetry/api';
import { exportersOf, type Tracing, type TracingSettings } from './settings.js';

/**
 * Starts OpenTelemetry's SDK when the settings ask for traces, and returns null otherwise, so
 * the default start loads none of it. The provider is registered globally: the ledger's spans
 * (`tracer.ts`) and the requests' go to it, the context follows async calls, and W3C trace
 * context is what is propagated. The resource is `service.name=session-ledger` unless
 * OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise; the sampler and the batch
 * processor read their own OTEL_* settings. `processors` replaces the exporters (a test's
 * in-memory exporter).
 */
export function startTracing(settings: TracingSettings, processors?: SpanProcessor[]): Tracing | null {
  const exporters = exportersOf(settings);
  if (processors === undefined && exporters.length === 0) return null;
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'session-ledger', ...(settings.serviceVersion && { 'service.version': settings.serviceVersion }) }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: processors ?? exporters.map((name) => new BatchSpanProcessor(name === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter())),
  });
  provider.register();
  const requests = new FastifyOtelInstrumentation({
    // The lifecycle hooks (auth, rate limit, metrics, …) are a dozen spans a request and say little.
    instrumentHooks: false,
    requestHook: withoutQuery,
  });
  requests.setTracerProvider(provider);
  return {
    requests,
    async shutdown() {
      requests.disable();
      await provider.shutdown();
    },
  };
}

/**
 * The request span's `url.path` without the query: a watch opened from a web page carries its
 * single-use ticket there, and no credential is ever a span attribute.
 */
function withoutQuery(span: Span, request: FastifyRequest): void {
  const query = request.url.indexOf('?');
  if (query !== -1) span.setAttribute('url.path', request.url.slice(0, query));
}
