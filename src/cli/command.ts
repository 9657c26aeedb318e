import type { LedgerConfig } from '../config.js';

/** What every `ledger` subcommand gives the dispatcher. */
export interface CliCommand {
  name: string;
  /** One line for `ledger --help`. */
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

export interface CliIo {
  config: LedgerConfig;
  out: (line: string) => void;
  /** Errors and usage go to stderr, so stdout stays the command's answer. */
  err: (line: string) => void;
  clock: () => Date;
}
