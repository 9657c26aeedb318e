#!/usr/bin/env node
import { ConfigError, loadConfig } from '../config.js';
import type { CliCommand } from './command.js';
import { history } from './history.js';
import { simulate } from './simulate.js';

const commands: readonly CliCommand[] = [simulate, history];

function help(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    'usage: ledger <command> [arguments]',
    '',
    'commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'environment: LEDGER_DB (default ./data/ledger.db), LEDGER_SQLITE_SYNCHRONOUS (FULL),',
    '             LEDGER_PROVIDERS (gemini,codex,claude-code)',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    console.error(`unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return 2;
  }
  try {
    return await command.run(args, { config: loadConfig(), out: (line) => console.log(line), clock: () => new Date() });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
