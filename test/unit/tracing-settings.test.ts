import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { exportersOf } from '../../src/tracing/settings.js';

const settingsOf = (env: Record<string, string>) => {
  const config = loadConfig(env);
  return { exporters: config.OTEL_TRACES_EXPORTER, otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT };
};

t.test('tracing is on only when the environment asks for an exporter', async (t) => {
  t.same(exportersOf(settingsOf({})), [], 'nothing set: off');
  t.same(exportersOf(settingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })), ['otlp'], 'an endpoint: OTLP');
  t.same(exportersOf(settingsOf({ OTEL_TRACES_EXPORTER: 'console' })), ['console']);
  t.same(exportersOf(settingsOf({ OTEL_TRACES_EXPORTER: ' otlp , console,otlp' })), ['otlp', 'console'], 'a list, each once');
  t.same(exportersOf(settingsOf({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })), [], 'none wins');
  t.same(exportersOf(settingsOf({ OTEL_TRACES_EXPORTER: 'console,none' })), [], 'none in a list wins too');
  t.same(exportersOf(settingsOf({ OTEL_TRACES_EXPORTER: '', OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SERVICE_NAME: '' })), [], 'empty is unset');
});

t.test('a bad tracing variable stops the start, named', async (t) => {
  t.throws(() => loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' }), /OTEL_TRACES_EXPORTER/);
  t.throws(() => loadConfig({ OTEL_TRACES_EXPORTER: ',' }), /OTEL_TRACES_EXPORTER: name an exporter/);
  t.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), /OTEL_EXPORTER_OTLP_ENDPOINT: an http\(s\) URL/);
});
