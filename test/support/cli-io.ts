import { PassThrough } from 'node:stream';
import type { CliIo } from '../../src/cli/command.js';
import { loadConfig } from '../../src/config.js';

/**
 * A command's io inside the test process, on the settings `env` gives: what it writes to
 * stdout and stderr is kept in `out` and `err`; progress goes nowhere unless `overrides` says.
 */
export function cliIo(env: Record<string, string>, overrides: Partial<CliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    config: loadConfig(env),
    out: (line) => void out.push(line),
    err: (line) => void err.push(line),
    clock: () => new Date(),
    stdout: new PassThrough(),
    progress: () => ({ update() {}, stop() {} }),
    ...overrides,
  };
  return { io, out, err };
}
