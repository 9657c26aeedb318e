import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node <argv>` to its end, bounded, with the given environment on top of this one's; its exit code and output. */
export async function runNode(argv: string[], env: Record<string, string>): Promise<CommandRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, argv, {
      env: { ...process.env, ...env },
      maxBuffer: 64 << 20,
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

/** Runs `ledger <args>` as a real process, with this test's TypeScript loader, and the given environment on top of this one's. */
export const runLedger = (args: string[], env: Record<string, string>) => runNode([...process.execArgv, main, ...args], env);
