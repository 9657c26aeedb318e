import type { LedgerConfig } from '../config.js';
import type { Progress } from './progress.js';

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
  /** Where `out` writes, for a command whose answer is a stream of its own (an export). */
  stdout: NodeJS.WritableStream;
  /** A progress bar on a terminal's stderr, plain lines when stderr is not a terminal. */
  progress: (label: string, total: number) => Progress;
}
