// Scenario `watch`: one session watched live (SSE) by 10,000 watchers on loopback (quick:
// 200), opened from child processes of their own. The ledger's RSS before the watchers and
// once every one of them has its first status; then one status-changing fact is appended and
// the time from its acknowledgement to each watcher seeing the change is taken: the last
// watcher's (the fan-out's whole cost) and the median's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnChild } from './child.js';
import { linesOf, nextValue, stopChild } from './child-lines.js';
import type { Figure, Scenario } from './figure.js';
import { freshJwtSecret, tokenMinter } from './ledger-tokens.js';
import type { WatchersConnected, WatchersSaw } from './watch-clients.js';

/** The targets, for 10,000 watchers. */
const RSS_TARGET_BYTES = 300e6;
const FAN_OUT_TARGET_MS = 1000;

/** A process's resident set, from the kernel (`VmRSS`, in kB). */
function rssMiBOf(pid: number): number {
  const kB = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kB === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kB) / 1024;
}

/**
 * A process's CPU time so far (user and system, from `/proc/<pid>/stat`), in ms: the work a
 * stretch took, which other processes on the machine do not stretch as they stretch its wall
 * time. The kernel counts it in ticks of 1/100 s (USER_HZ, 100 on Linux).
 */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The soft limit on open files: each watch is a socket in the server and in a client. */
function openFilesLimit(): number {
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
  return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

export const watchScenario: Scenario = {
  name: 'watch',
  async run({ quick, dir, log }) {
    const watchers = quick ? 200 : 10_000;
    const processes = quick ? 1 : 2;
    const notes: string[] = [];
    // One socket per watch on each side, plus the files and pipes each process has anyway.
    if (openFilesLimit() < watchers / processes + 256 || openFilesLimit() < watchers + 256) {
      notes.push(`the open-files limit (${openFilesLimit()}) is below what ${watchers} watchers take: raise ulimit -n`);
    }
    const secret = freshJwtSecret();
    const env = { ...process.env, LEDGER_JWT_SECRET: secret };
    const ledger = spawnChild('ledger-serve', [join(dir, 'watch.db')], { env });
    const clients: ReturnType<typeof spawnChild>[] = [];
    const figure = (name: string, unit: string): Figure => ({ scenario: 'watch', name, value: null, unit });
    const before = figure('ledger RSS before the watchers', 'MiB');
    const after = figure(`ledger RSS with ${watchers} watchers open`, 'MiB');
    const last = figure(`one status change to all ${watchers} watchers (the last)`, 'ms');
    const median = figure(`one status change to ${watchers} watchers, p50`, 'ms');
    try {
      const port = await nextValue<number>(linesOf(ledger), "the ledger's port");
      const base = `http://127.0.0.1:${port}`;
      const controller = { authorization: `Bearer ${tokenMinter(secret)({ role: 'controller', sub: 'cli-controller' })}`, 'content-type': 'application/json' };
      const userId = 'user-watched';
      const started = (await (
        await fetch(`${base}/v1/sessions`, { method: 'POST', headers: controller, body: JSON.stringify({ userId, provider: 'gemini', browserVmId: 'vm-watched' }) })
      ).json()) as { sessionId: string; position: string };
      // Read after its start, so the read model has the row every watch starts from.
      await (await fetch(`${base}/v1/sessions/${started.sessionId}?after=${started.position}`, { headers: controller })).json();
      before.value = rssMiBOf(ledger.pid!);

      log(`watch: opening ${watchers} watches from ${processes} processes`);
      const share = Math.ceil(watchers / processes);
      const streams = [];
      for (let p = 0; p < processes; p++) {
        const count = Math.min(share, watchers - p * share);
        const child = spawnChild('watch-clients', [String(port), started.sessionId, userId, String(count), String(p * share)], { env });
        clients.push(child);
        streams.push(linesOf(child));
      }
      const opened = await Promise.all(streams.map((lines) => nextValue<WatchersConnected>(lines, 'how many watches it opened')));
      const connected = opened.reduce((sum, each) => sum + each.connected, 0);
      const failures = opened.flatMap((each) => Object.entries(each.failures).map(([why, n]) => `${n} × ${why}`));
      if (connected < watchers) notes.push(`${watchers - connected} of ${watchers} watches did not open (${failures.join(', ')})`);
      after.value = rssMiBOf(ledger.pid!);
      if (connected > 0) after.note = `${(((after.value - before.value) * 1024) / connected).toFixed(1)} KiB per open watch`;

      log(`watch: ${connected} watches open; appending the change`);
      const cpuBefore = cpuMsOf(ledger.pid!);
      const answer = await fetch(`${base}/v1/sessions/${started.sessionId}/events`, {
        method: 'POST',
        headers: controller,
        body: JSON.stringify({ type: 'CredentialsStored', eventId: crypto.randomUUID(), data: { provider: 'gemini', credentialRef: 'cred-watched' } }),
      });
      await answer.json();
      const acknowledged = performance.timeOrigin + performance.now();
      if (answer.status !== 201) throw new Error(`the status-changing append answered ${answer.status}`);

      const saw = await Promise.all(streams.map((lines) => nextValue<WatchersSaw>(lines, 'when its watchers saw the change')));
      last.note = `the ledger's CPU from the append to the last watcher: ${cpuMsOf(ledger.pid!) - cpuBefore} ms (the wall time stretches with what else runs)`;
      const delays = saw.flatMap((each) => each.seen.map((at) => at - acknowledged)).sort((a, b) => a - b);
      const missed = saw.reduce((sum, each) => sum + each.missed, 0);
      if (missed > 0) notes.push(`${missed} open watches never saw the change`);
      if (delays.length > 0) {
        last.value = delays.at(-1)!;
        median.value = percentile(delays, 50);
      }
      if (!quick) {
        after.target = { text: '< 300 MB for 10,000 watchers', met: after.value * 2 ** 20 < RSS_TARGET_BYTES && connected === watchers };
        last.target = { text: '< 1 s to all 10,000', met: last.value !== null && last.value < FAN_OUT_TARGET_MS && missed === 0 && connected === watchers };
      }
    } catch (error) {
      // Figures as far as they got, and why the rest are missing.
      notes.push(`the scenario failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      await Promise.all(clients.map((child) => stopChild(child)));
      await stopChild(ledger);
    }
    const note = notes.join('; ');
    if (note) for (const each of [after, last, median]) each.note = each.note ? `${each.note}; ${note}` : note;
    return [before, after, last, median];
  },
};
