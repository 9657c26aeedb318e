import { PassThrough } from 'node:stream';
import type { CliContext } from '../../src/cli/command.js';
import { ledgerCommands } from '../../src/cli/commands.js';
import { runCli } from '../../src/cli/dispatch.js';

/**
 * `ledger <args>` inside the test process, through the same dispatcher as the real one, on
 * the settings `env` gives: what it writes to stdout and stderr is kept in `out` and `err`;
 * progress goes nowhere unless `overrides` says.
 */
export async function runInProcess(args: string[], env: Record<string, string>, overrides: Partial<CliContext> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, ledgerCommands, '0.0.0-test', {
    env,
    out: (line) => void out.push(line),
    err: (line) => void err.push(line),
    clock: () => new Date(),
    stdout: new PassThrough(),
    progress: () => ({ update() {}, stop() {} }),
    ...overrides,
  });
  // Also as a real process's run reads: stdout and stderr as text, a line break after each line.
  const text = (lines: string[]) => lines.map((line) => `${line}\n`).join('');
  return { code, out, err, stdout: text(out), stderr: text(err) };
}
