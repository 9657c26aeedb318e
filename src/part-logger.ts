/**
 * The part of a logger the ledger's parts use (the projector, the sweeper, the sealer):
 * fields first, then the message. A pino logger is one; the parts do not depend on pino, so a
 * command that logs nothing never loads it. Parts log positions, counts, ids and errors, never
 * event data.
 */
export interface PartLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A logger that gives each part a child of its own, as pino's `child` does. */
export interface LedgerLogger extends PartLogger {
  child(bindings: Record<string, unknown>): PartLogger;
}

/** For a part built without a logger (a test, a one-off command). */
export const silentLogger: LedgerLogger = { info() {}, warn() {}, error() {}, child: () => silentLogger };
