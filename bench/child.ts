// A scenario's other processes (a server under load, a load generator, a worker of a
// prototype) are the bench's own entry run again with `--child <name>`, so they load exactly
// as the bench itself did: compiled by `npm run bench`, or through the quick test's loader.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Starts the child role `name` with its arguments; stdio as given (default: inherit stderr). */
export function spawnChild(name: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
  const entry = process.argv[1];
  if (entry === undefined) throw new Error('the bench was started without an entry file');
  return spawn(process.execPath, [...process.execArgv, entry, '--child', name, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...options,
  });
}
