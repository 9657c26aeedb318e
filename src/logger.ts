import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * The ledger's structured logger. The routes never log headers or bodies; the redaction is
 * the second line of defence, for a field that ever ends up in a log call by mistake.
 */
export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
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

