/**
 * The auditors' commands as real processes over a real SQLite file: what they print, and
 * their exit codes (0 clean, 1 anything found, 2 a usage error).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runInProcess } from '../support/cli-in-process.js';
import { runLedger } from '../support/ledger-process.js';
import { writeStory } from '../support/audited-ledger.js';
import { editAndRechain, editStatus } from '../support/tamper.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-audit-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const path = join(dir, 'ledger.db');
const story = await writeStory(path);
const env = { LEDGER_DB: path };
const ledger = (...args: string[]) => runLedger(args, env);
/** The same command through the same dispatcher in this process: no process to start, for what needs no stream or terminal of its own. */
const inProcess = (...args: string[]) => runInProcess(args, env);

t.test('verify: clean, with progress on stderr', async (t) => {
  const text = await ledger('verify');
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout, /checked 5 sessions, 12 events, against the read model as of position \d+/);
  t.match(text.stdout, /clean$/m);
  t.match(text.stderr, 'verified 5 sessions', 'a progress line, not on stdout');
});

t.test('history: each fact, who recorded it, the status after it; as JSON; as of a point', async (t) => {
  const text = await ledger('history', story.failedThenLate);
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout, /#1 @\d+ \S+ VmDestroyed\s+→ failed\s+by controller:vm-manager/);
  t.match(text.stdout, /#2 @\d+ \S+ CredentialsStored → completed\s+by controller:vm-manager .* ⚠ completedAfterFailure/);
  const destroyedAt = /#1 @(\d+) /.exec(text.stdout)![1]!;
  const asOf = JSON.parse((await inProcess('history', story.failedThenLate, '--json', '--as-of', destroyedAt)).stdout) as unknown;
  t.match(asOf, { status: 'failed', events: [{ status: 'pending', anomalies: [] }, { type: 'VmDestroyed', status: 'failed', actor: 'controller:vm-manager' }] }, 'as of the VM destroyed: failed, two events');
});

t.test('export to a file and to stdout, and its offline check; a line edited is caught', async (t) => {
  const file = join(dir, 'export.ndjson');
  const written = await ledger('export', '--out', file);
  t.equal(written.code, 0, written.stderr);
  t.match(written.stderr, `exported 12 events to ${file}`);
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  t.equal(lines.length, 12);
  const one = (await ledger('export', '--session', story.cancelled)).stdout;
  t.equal(one, `${lines.filter((line) => line.includes(`"streamName":"authSession-${story.cancelled}"`)).join('\n')}\n`, "to stdout: one session's events, the same lines");
  const checked = await inProcess('verify', '--export', file);
  t.equal(checked.code, 0, checked.stdout);
  t.match(checked.stdout, 'checked 12 events of 5 streams');

  // The README's few lines of Python, as an auditor would run them on the export.
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const script = /### The hash chain[\s\S]*?```python\n([\s\S]*?)```/.exec(readme)?.[1];
  t.ok(script, "the README shows the auditor's script");
  const python = spawnSync('python3', ['-', file], { input: script, encoding: 'utf8' });
  if (python.error) t.comment(`skipped: python3 is not on this machine (${python.error.message})`);
  else t.equal(python.status, 0, `the README's script checks the export out: ${python.stderr}`);

  const edited = join(dir, 'edited.ndjson');
  writeFileSync(edited, `${lines.map((line) => line.replace('"reason":"clean-up"', '"reason":"clean-up!"')).join('\n')}\n`);
  if (!python.error) {
    const pythonCaught = spawnSync('python3', ['-', edited], { input: script, encoding: 'utf8' });
    t.not(pythonCaught.status, 0, 'and it catches the edited line');
    t.match(pythonCaught.stderr, /breaks at revision/);
  }
  const caught = await inProcess('verify', '--export', edited, '--json');
  t.equal(caught.code, 1);
  t.match(JSON.parse(caught.stdout), { chainBreaks: [{ reason: 'hash' }] });
});

t.test('seal: a new key pair, sealing, the seals document; verify --seals against it', async (t) => {
  const keyFile = join(dir, 'seal.key');
  const made = await inProcess('seal', '--new-key', keyFile);
  t.equal(made.code, 0, made.stderr);
  t.equal(statSync(keyFile).mode & 0o777, 0o600, 'the private key is for its owner only');
  t.match(readFileSync(`${keyFile}.pub`, 'utf8'), 'BEGIN PUBLIC KEY');

  const sealed = await runLedger(['seal'], { ...env, LEDGER_SEAL_KEY_FILE: keyFile });
  t.equal(sealed.code, 0, sealed.stderr);
  t.match(sealed.stdout, /sealed the log at position \d+: heads [0-9a-f]{64}/);
  const listed = await runLedger(['seal', '--list'], { ...env, LEDGER_SEAL_KEY_FILE: keyFile });
  const document = JSON.parse(listed.stdout) as { publicKey: string; seals: unknown[] };
  t.equal(document.publicKey, readFileSync(`${keyFile}.pub`, 'utf8'));
  t.equal(document.seals.length, 1);
  const sealsFile = join(dir, 'seals.json');
  writeFileSync(sealsFile, listed.stdout);

  const holds = await inProcess('verify', '--seals', sealsFile, '--public-key', `${keyFile}.pub`);
  t.equal(holds.code, 0, holds.stdout);
  t.match(holds.stdout, 'seals: 1 checked, every one holds');

  // The careful forger edits an event, recomputes the chain, and makes the read model agree.
  editAndRechain(path, story.completedThenCleanedUp, 1, (data) => ({ ...data, credentialRef: 'cred-forged' }));
  const replayed = await ledger('replay');
  t.equal(replayed.code, 0, replayed.stderr);
  t.match(replayed.stdout, /replayed 12 events into 5 sessions up to position \d+ in [\d.]+ s: \d+ events\/s/);
  t.equal((await inProcess('verify')).code, 0, 'verify alone passes');
  const forged = await inProcess('verify', '--seals', sealsFile, '--public-key', `${keyFile}.pub`);
  t.equal(forged.code, 1);
  t.match(forged.stdout, /seal #1 \(position \d+, sealed at \S+\) no longer holds: the log no longer gives the heads it signed/);
});

t.test('verify names what it finds, and exits 1', async (t) => {
  editStatus(path, story.pending, 'completed');
  const run = await inProcess('verify');
  t.equal(run.code, 1);
  t.match(run.stdout, `${story.pending} status: read model "completed", fold "pending"`);
  t.match(run.stdout, /NOT clean$/m);
});

t.test('usage errors exit 2 and say why', async (t) => {
  // Argument checking needs no process of its own: the commands run here, on this ledger.
  const cases: [string[], RegExp][] = [
    [['verify', '--seals', 'x.json'], /--seals and --public-key go together/],
    [['verify', '--export', 'x', '--seals', 'y', '--public-key', 'z'], /--export checks a file offline/],
    [['verify', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['verify', '--export', join(dir, `${randomUUID()}.ndjson`)], /cannot read/],
    [['verify', '--seals', join(dir, 'nothing.json'), '--public-key', join(dir, 'nothing.pub')], /ENOENT/],
    [['export', '--after', '-1'], /after/],
    [['export', '--since', 'yesterday'], /since/],
    [['history'], /missing <sessionId>\nusage: ledger history <sessionId> \[options\]/],
    [['history', 'a', 'b'], /unexpected arguments: b/],
    [['history', 'a', '--as-of', 'then'], /asOf/],
    [['seal'], /no key to seal with/],
    [['seal', '--new-key', 'k', '--list'], /separate uses/],
    [['replay', 'now'], /unexpected arguments: now/],
  ];
  for (const [args, said] of cases) {
    const { code, err } = await runInProcess(args, env);
    t.equal(code, 2, args.join(' '));
    t.match(err.join('\n'), said, args.join(' '));
  }
});
