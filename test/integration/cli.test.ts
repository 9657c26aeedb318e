import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const dir = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Runs `ledger` as a real process, with this test's TypeScript loader. */
async function ledger(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...process.execArgv, main, ...args], {
      env: { ...process.env, LEDGER_DB: join(dir, 'ledger.db'), ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

t.test('simulate records every flow for each provider, and history replays one', async (t) => {
  const run = await ledger(['simulate']);
  t.equal(run.code, 0, run.stderr);
  for (const provider of ['gemini', 'codex', 'claude-code']) {
    t.match(run.stdout, `${provider}: credentials stored, then the VM is cleaned up`);
  }
  t.match(run.stdout, /VmDestroyed\s+→ completed/, 'a VM clean-up after credentials leaves the session completed');
  t.match(run.stdout, /VmDestroyed\s+→ failed/, 'a VM destroyed first fails the session');
  t.match(run.stdout, 'anomaly: completedAfterFailure');
  t.match(run.stdout, "the agent's retried call: already recorded = true");
  t.match(run.stdout, /the second cancel is refused: session \S+ is already cancelled/);

  const sessionId = /gemini: the VM is destroyed before OAuth completes.*\(session (\S+)\)/.exec(run.stdout)![1]!;
  const history = await ledger(['history', sessionId]);
  t.equal(history.code, 0, history.stderr);
  t.match(history.stdout, `session ${sessionId}`);
  t.match(history.stdout, /#1 @\d+ \S+ VmDestroyed\s+→ failed/);
  t.match(history.stdout, /#2 @\d+ \S+ CredentialsStored → completed/);
  t.match(history.stdout, 'anomaly: completedAfterFailure');
});

t.test('mistakes are answered clearly', async (t) => {
  const unknown = await ledger(['frobnicate']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, 'unknown command "frobnicate"');
  t.match(unknown.stderr, 'simulate');

  const missing = await ledger(['history', 'no-such-session']);
  t.equal(missing.code, 1);
  t.match(missing.stdout, 'no session no-such-session');

  const badConfig = await ledger(['history', 'x'], { LEDGER_SQLITE_SYNCHRONOUS: 'SOMETIMES', LEDGER_PROVIDERS: 'Gemini!' });
  t.equal(badConfig.code, 2);
  t.match(badConfig.stderr, 'LEDGER_SQLITE_SYNCHRONOUS');
  t.match(badConfig.stderr, 'LEDGER_PROVIDERS');

  const help = await ledger(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /simulate\s+record/);
  t.match(help.stdout, /history\s+print/);
});
