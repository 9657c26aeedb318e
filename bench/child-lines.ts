// What a scenario reads from its children: each prints one JSON value per line on stdout (a
// port, a result), and is stopped with SIGTERM once it is no longer needed.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Each line the child prints, as it comes; ends when its stdout closes. */
export function linesOf(child: ChildProcess): AsyncIterator<string> {
  if (!child.stdout) throw new Error('the child was started without a stdout pipe');
  return createInterface({ input: child.stdout, crlfDelay: Infinity })[Symbol.asyncIterator]();
}

/** The next line, parsed; an exit before it is an error that says so. */
export async function nextValue<T>(lines: AsyncIterator<string>, what: string): Promise<T> {
  const next = await lines.next();
  if (next.done) throw new Error(`the child exited before it printed ${what}`);
  return JSON.parse(next.value) as T;
}

/** Runs a child to its end and parses the last line it printed. */
export async function lastValue<T>(child: ChildProcess, what: string): Promise<T> {
  const lines = linesOf(child);
  let last: string | undefined;
  for (let next = await lines.next(); !next.done; next = await lines.next()) last = next.value;
  const code = child.exitCode ?? (await new Promise<number | null>((resolve) => child.once('exit', resolve)));
  if (last === undefined || code !== 0) throw new Error(`the child printing ${what} exited with ${code} (${last?.slice(0, 200) ?? 'nothing printed'})`);
  return JSON.parse(last) as T;
}

/** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
