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
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/**
 * The part of a pino logger the ledger's parts use (the projector, the sweeper): fields
 * first, then the message. Parts log positions, counts, ids and errors, never event data.
 */
export interface PartLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** For a part built without a logger (a test, a one-off command). */
export const silentLogger: PartLogger = { info() {}, warn() {}, error() {} };
