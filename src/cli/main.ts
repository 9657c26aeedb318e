#!/usr/bin/env node
import { ConfigError, loadConfig } from '../config.js';
import type { CliCommand } from './command.js';
import { progressOn } from './progress.js';
import { demo } from './demo.js';
import { history } from './history.js';
import { exportCommand } from './export.js';
import { importLegacy } from './import-legacy.js';
import { replay } from './replay.js';
import { seal } from './seal.js';
import { verify } from './verify.js';
import { serve } from './serve.js';
import { simulate } from './simulate.js';
import { token } from './token.js';

const commands: readonly CliCommand[] = [serve, token, simulate, history, demo, verify, replay, exportCommand, seal, importLegacy];

function help(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    'usage: ledger <command> [arguments]',
    '',
    'commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'environment (defaults): LEDGER_HOST (127.0.0.1), LEDGER_PORT (3000), LEDGER_DB (./data/ledger.db),',
    '  LEDGER_JWT_SECRET (a generated secret in <LEDGER_DB>.jwt-secret), LEDGER_PROVIDERS (gemini,codex,claude-code),',
    '  LEDGER_SQLITE_SYNCHRONOUS (FULL), LEDGER_READ_WAIT_MS (5000), LOG_LEVEL (info)',
    '  LEDGER_URL (http://127.0.0.1:3000): where `ledger demo` finds the ledger',
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
    return await command.run(args, {
      config: loadConfig(),
      out: (line) => console.log(line),
      err: (line) => console.error(line),
      clock: () => new Date(),
      stdout: process.stdout,
      progress: (label, total) => progressOn(process.stderr, label, total),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
