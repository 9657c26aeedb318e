import { spawn } from 'node:child_process';
import { runNode } from './ledger-process.js';

/** What a bundled `ledger serve` logged at level error or above, kept to say why a test failed. */
export interface LoggedError {
  msg: string;
  line: string;
}

/**
 * `ledger serve` from a bundle (see ledger-bundle.ts), as a real process on 127.0.0.1 at a
 * free port, over the SQLite file `db`, with `env` on top of this process's. Resolves once it
 * listens. Each line it logs at level error or above goes to `onError`. Bounded: killed after
 * `timeoutMs`, and when this process exits.
 */
export async function serveBundled(
  main: string,
  db: string,
  env: Record<string, string>,
  { timeoutMs = 300_000, onError }: { timeoutMs?: number; onError?: (error: LoggedError) => void } = {},
) {
  const server = spawn(process.execPath, [main, 'serve'], {
    env: { ...process.env, LEDGER_DB: db, LEDGER_HOST: '127.0.0.1', LEDGER_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    server.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const killOnExit = () => server.kill('SIGKILL');
  process.once('exit', killOnExit);
  const guard = setTimeout(killOnExit, timeoutMs);
  void exited.then(() => {
    clearTimeout(guard);
    process.off('exit', killOnExit);
  });

  let stderr = '';
  server.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  let partial = '';
  const url = await new Promise<string>((resolve, reject) => {
    void exited.then(({ code, signal }) => reject(new Error(`serve exited (${signal ?? code}) before listening: ${stderr}`)));
    // Read to the end, always: a full pipe would stop the server. Only the lines that matter
    // are parsed: a server under load writes one per request.
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (line.includes('"ledger listening"')) resolve((JSON.parse(line) as { address: string }).address);
        else if (/"level":(5|6)\d/.test(line)) onError?.({ msg: (JSON.parse(line) as { msg: string }).msg, line });
      }
    });
  });

  return {
    url,
    pid: server.pid!,
    exited,
    /** Dies at once, as in a crash or an OOM kill: no shutdown, no flush. */
    kill: async () => {
      server.kill('SIGKILL');
      return exited;
    },
    /** SIGTERM: the clean shutdown; its exit code. */
    stop: async () => {
      server.kill('SIGTERM');
      return exited;
    },
  };
}

export type BundledServer = Awaited<ReturnType<typeof serveBundled>>;

/** Runs `ledger <args>` from a bundle to its end, bounded; its exit code and output. */
export const runBundled = (main: string, args: string[], env: Record<string, string>) => runNode([main, ...args], env);
