import type { z } from 'zod';
import { environmentSchema, type EnvironmentVariable } from '../config.js';
import type { CliCommand, CliOption } from './command.js';

/** `--help` is every command's; the dispatcher answers it before the command sees its arguments. */
export const HELP_OPTION: CliOption = { type: 'boolean', short: 'h', description: 'show this help, and do nothing else' };

const optionWords = (name: string, option: CliOption) =>
  `${option.short ? `-${option.short}, ` : ''}--${name}${option.type === 'string' ? ` ${option.value ?? '<value>'}` : ''}`;

/** Lines of two columns, the first padded to the widest. */
function columns(rows: readonly (readonly [string, string])[], indent = '  '): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`.trimEnd());
}

/** `ledger history <sessionId> [options]`. */
export function usageOf(command: CliCommand): string {
  const words = ['ledger', command.name];
  if (command.positionals) words.push(command.positionals.usage);
  if (Object.keys(command.options).length > 0) words.push('[options]');
  return words.join(' ');
}

/** A variable's default as the schema declares it, through transforms and pipes; undefined when it has none. */
function defaultOf(schema: z.ZodType): unknown {
  let inner: z.core.$ZodType = schema;
  while (inner._zod.def.type === 'pipe') inner = (inner._zod.def as z.core.$ZodPipeDef).in;
  return inner._zod.def.type === 'default' ? (inner._zod.def as z.core.$ZodDefaultDef).defaultValue : undefined;
}

/** Each variable with its default and what it is, from the one schema the configuration is checked with. */
export function environmentLines(names: readonly EnvironmentVariable[] = Object.keys(environmentSchema) as EnvironmentVariable[]): string[] {
  return columns(
    names.map((name) => {
      const schema = environmentSchema[name];
      const fallback = defaultOf(schema);
      const shown = fallback === undefined ? 'unset' : fallback === '' ? 'empty' : typeof fallback === 'string' ? fallback : JSON.stringify(fallback);
      return [name, `${schema.description ?? ''} (default: ${shown})`];
    }),
  );
}

/** What `ledger <command> --help` and `ledger help <command>` print. */
export function commandHelp(command: CliCommand): string {
  const options = Object.entries({ ...command.options, help: HELP_OPTION });
  return [
    `ledger ${command.name}: ${command.summary}`,
    '',
    `usage: ${usageOf(command)}`,
    '',
    'options:',
    ...columns(options.map(([name, option]) => [optionWords(name, option), option.description])),
    ...(command.environment.length > 0 ? ['', 'environment:', ...environmentLines(command.environment)] : []),
    '',
    command.examples.length > 1 ? 'examples:' : 'example:',
    ...command.examples.map((example) => `  ${example}`),
  ].join('\n');
}

/** What `ledger --help` prints: every command, and every variable the ledger reads. */
export function overview(commands: readonly CliCommand[]): string {
  return [
    'usage: ledger <command> [arguments]',
    '       ledger <command> --help   (or ledger help <command>): what it does, its options and environment',
    '       ledger --version',
    '',
    'commands:',
    ...columns(commands.map((command) => [command.name, command.summary])),
    '',
    'environment (every variable the ledger reads):',
    ...environmentLines(),
  ].join('\n');
}
