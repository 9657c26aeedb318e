import type { EnvironmentVariable, LedgerConfig } from '../config.js';
import type { Progress } from './progress.js';

/** One option of a command, as `node:util`'s `parseArgs` takes it, with what its help says. */
export interface CliOption {
  type: 'string' | 'boolean';
  short?: string;
  /** What the value is, for the usage line (`<file>`); string options only. */
  value?: string;
  description: string;
}

export type CliOptions = Readonly<Record<string, CliOption>>;

/** The options' values as parsed: a string or a flag each, absent when not given. */
export type OptionValues<O extends CliOptions> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };

export interface ParsedArguments<O extends CliOptions = CliOptions> {
  values: OptionValues<O>;
  positionals: string[];
}

/** What every `ledger` subcommand gives the dispatcher: enough to parse its arguments and write its help without running it. */
export interface CliCommand<O extends CliOptions = CliOptions> {
  name: string;
  /** One line for `ledger --help`. */
  summary: string;
  /** The positional arguments: their usage words, and how many it takes. */
  positionals?: { usage: string; min: number; max: number };
  options: O;
  /** The variables it reads, which its help lists with their defaults. */
  environment: readonly EnvironmentVariable[];
  /** Command lines that show its use; the first is the one its help shows first. */
  examples: readonly string[];
  /** Arguments parsed and counted, configuration loaded: only now does a command act. */
  run(parsed: ParsedArguments<O>, io: CliIo): Promise<number>;
}

/** Keeps a command's option types for its `run`, and lets a list hold commands of different options. */
export const defineCommand = <O extends CliOptions>(command: CliCommand<O>): CliCommand => command;

/** The variables of every command that opens the store. */
export const STORE_ENVIRONMENT: readonly EnvironmentVariable[] = ['LEDGER_STORE', 'EVENTSTORE_CONNECTION_STRING', 'LEDGER_DB', 'LEDGER_SQLITE_SYNCHRONOUS'];

/** The outside world of a command run: standard streams, the clock, and the environment it was started in. */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  /** Errors and usage go to stderr, so stdout stays the command's answer. */
  err: (line: string) => void;
  clock: () => Date;
  /** Where `out` writes, for a command whose answer is a stream of its own (an export). */
  stdout: NodeJS.WritableStream;
  /** A progress bar on a terminal's stderr, plain lines when stderr is not a terminal. */
  progress: (label: string, total: number) => Progress;
}

/** What a command runs with: the context, and the configuration checked from its environment. */
export interface CliIo extends Omit<CliContext, 'env'> {
  config: LedgerConfig;
}

/** A misuse found by a command itself (options that do not go together): exit 2 with the reason and the usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
