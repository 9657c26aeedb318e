import { pino, type DestinationStream, type Logger } from 'pino';
import { activeTraceFields } from './tracing/tracer.js';

/**
 * The ledger's structured logger. The routes never log headers or bodies; the redaction is
 * the second line of defence, for a field that ever ends up in a log call by mistake. A line
 * written inside a traced span names it (`trace_id`, `span_id`), so a log line leads to its trace.
 */
export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      mixin: () => activeTraceFields() ?? {},
      redact: {
        paths: [
          'req.headers.authorization',
          'headers.authorization',
          'authorization',
          'body',
          'req.body',
          'agentToken',
          '*.agentToken',
          'token',
          '*.token',
          'ticket',
          '*.ticket',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

