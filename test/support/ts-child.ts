import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Runs a TypeScript file as a real child process, with this test's TypeScript loader (or a
 * JavaScript one, a bundle say, with `execArgv: []`: no loader to start). The child prints one JSON object per line; `onLine` sees each, with the process (to kill it or
 * write to its stdin). Bounded: a child still alive after `timeoutMs` is killed.
 * Resolves with the lines and the signal it died of, if any.
 */
export function runTsChild<Line>(
  file: string,
  args: string[],
  {
    onLine,
    timeoutMs = 60_000,
    execArgv = process.execArgv,
  }: { onLine?: (line: Line, proc: ChildProcess) => void; timeoutMs?: number; execArgv?: readonly string[] } = {},
) {
  const proc = spawn(process.execPath, [...execArgv, file, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Line[] = [];
  let buffered = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const line = JSON.parse(buffered.slice(0, newline)) as Line;
      buffered = buffered.slice(newline + 1);
      lines.push(line);
      onLine?.(line, proc);
    }
  });
  const guard = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  return new Promise<{ lines: Line[]; signal: NodeJS.Signals | null }>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (_code, signal) => {
      clearTimeout(guard);
      resolve({ lines, signal });
    });
  });
}
