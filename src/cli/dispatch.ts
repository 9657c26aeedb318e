import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { LedgerError, type LedgerErrorCode } from '../ledger-error.js';
import { UsageError, type CliCommand, type CliContext, type ParsedArguments } from './command.js';
import { commandHelp, HELP_OPTION, overview, usageOf } from './help.js';

/**
 * The ledger's database cannot be opened as the command needs it, or its storage failed it
 * (not a database, read-only, a full disk, a folder that cannot be made): said in one line
 * that names the file and the fix, exit 1, no stack trace.
 */
const UNOPENABLE: ReadonlySet<LedgerErrorCode> = new Set(['missing-database', 'schema-behind', 'schema-too-new', 'storage-fault']);

const asksForHelp = (args: readonly string[]) => {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
};

/**
 * A command's arguments, parsed strictly (an unknown option or a missing value is refused)
 * by `node:util`'s `parseArgs`, the one parser of every command, and counted.
 */
function parseCommandArguments(command: CliCommand, args: string[]): ParsedArguments | 'help' {
  let parsed;
  try {
    const options = Object.fromEntries(
      Object.entries({ ...command.options, help: HELP_OPTION }).map(([name, { type, short }]) => [name, short ? { type, short } : { type }]),
    );
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    // `--help` wins over any mistake beside it: asking is never refused.
    if (asksForHelp(args)) return 'help';
    throw new UsageError((error as Error).message);
  }
  const { help, ...values } = parsed.values;
  if (help) return 'help';
  const { positionals } = parsed;
  const { min = 0, max = 0, usage = '' } = command.positionals ?? {};
  if (positionals.length < min) throw new UsageError(`missing ${usage}`);
  if (positionals.length > max) throw new UsageError(`unexpected arguments: ${positionals.slice(max).join(' ')}`);
  return { values: values as ParsedArguments['values'], positionals };
}

/**
 * `ledger <command> [arguments]`: answers `--help`, `help <command>` and `--version` without
 * touching anything; otherwise parses the command's arguments, then loads the configuration,
 * then runs it. Exit codes: 0 done, 1 the command found a problem, 2 a usage or configuration error.
 */
export async function runCli(argv: readonly string[], commands: readonly CliCommand[], version: string, context: CliContext): Promise<number> {
  const { env, out, err, ...rest } = context;
  const [name, ...args] = argv;
  const find = (wanted: string) => commands.find((command) => command.name === wanted);
  if (name === undefined) {
    err(overview(commands));
    return 2;
  }
  if (name === '--help' || name === '-h') {
    out(overview(commands));
    return 0;
  }
  if (name === '--version' || name === '-v') {
    out(version);
    return 0;
  }
  if (name === 'help') {
    if (args.length === 0) {
      out(overview(commands));
      return 0;
    }
    const command = find(args[0]!);
    if (command && args.length === 1) {
      out(commandHelp(command));
      return 0;
    }
    err(`${command ? `help names one command` : `unknown command ${JSON.stringify(args[0])}`}\n\n${overview(commands)}`);
    return 2;
  }
  const command = find(name);
  if (!command) {
    err(`unknown command ${JSON.stringify(name)}\n\n${overview(commands)}`);
    return 2;
  }
  try {
    const parsed = parseCommandArguments(command, args);
    if (parsed === 'help') {
      out(commandHelp(command));
      return 0;
    }
    return await command.run(parsed, { ...rest, out, err, config: loadConfig(env) });
  } catch (error) {
    if (error instanceof UsageError) {
      err(`${error.message}\nusage: ${usageOf(command)}   (ledger ${command.name} --help says more)`);
      return 2;
    }
    if (error instanceof ConfigError) {
      err(error.message);
      return 2;
    }
    if (error instanceof LedgerError && UNOPENABLE.has(error.code)) {
      err(error.message);
      return 1;
    }
    throw error;
  }
}
