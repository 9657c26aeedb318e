/**
 * Every command's help: asked for in any of its ways, it is printed, exit 0, and nothing else
 * happens (no database, no secret file, no listening socket, no sessions recorded).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ledgerCommands } from '../../src/cli/commands.js';
import { environmentSchema } from '../../src/config.js';
import { runInProcess } from '../support/cli-in-process.js';
import { runLedger } from '../support/ledger-process.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-cli-help-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const env = { LEDGER_DB: join(dir, 'data', 'ledger.db') };
const touchedNothing = (t: Test, what: string) => t.same(readdirSync(dir), [], `${what}: nothing created`);

t.test("each command's help, asked for in every way, says the same and does nothing", async (t) => {
  for (const command of ledgerCommands) {
    const help = await runInProcess([command.name, '--help'], env);
    t.equal(help.code, 0, `${command.name} --help`);
    t.same(help.err, [], `${command.name} --help: nothing on stderr`);
    const text = help.out.join('\n');
    t.match(text, `ledger ${command.name}: ${command.summary}`);
    t.match(text, `usage: ledger ${command.name}`);
    t.match(text, /\noptions:\n(.*\n)*\s+-h, --help\s+show this help/);
    t.match(text, /\nexamples?:\n {2}\S/);
    for (const name of command.environment) t.match(text, new RegExp(`\\n {2}${name} +\\S.*\\(default: `), `${command.name} lists ${name}`);
    for (const option of Object.keys(command.options)) t.match(text, `--${option}`, `${command.name} describes --${option}`);
    for (const other of [['-h'], ['help', command.name]].map((args) => (args[0] === 'help' ? args : [command.name, ...args]))) {
      const again = await runInProcess(other, env);
      t.same(again, help, other.join(' '));
    }
    // A mistake beside --help does not turn it into a usage error.
    const withMistake = await runInProcess([command.name, '--no-such-option', 'extra', 'words', '--help'], env);
    t.same(withMistake, help, `${command.name} --no-such-option … --help`);
    touchedNothing(t, command.name);
  }
});

t.test('serve --help and simulate --help as real processes: they print and leave, before any set-up', async (t) => {
  // The port serve would take is held: a serve that got as far as listening would fail on it.
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const port = String((holder.address() as { port: number }).port);
  for (const name of ['serve', 'simulate']) {
    const run = await runLedger([name, '--help'], { ...env, LEDGER_PORT: port });
    t.equal(run.code, 0, run.stderr);
    t.equal(run.stderr, '');
    t.match(run.stdout, `usage: ledger ${name}`);
    touchedNothing(t, name);
  }
  t.notOk(existsSync(`${env.LEDGER_DB}.jwt-secret`), 'no secret written');
});

t.test('ledger --help lists every command and every variable of the configuration, with its default', async (t) => {
  const help = await runInProcess(['--help'], env);
  t.equal(help.code, 0);
  const text = help.out.join('\n');
  for (const command of ledgerCommands) t.match(text, new RegExp(`\\n {2}${command.name} +${command.summary.slice(0, 20).replace(/[()]/g, '\\$&')}`));
  for (const name of Object.keys(environmentSchema)) t.match(text, new RegExp(`\\n {2}${name} +\\S.*\\(default: [^)]+\\)`), name);
  t.match(text, /LEDGER_SWEEP_INTERVAL_MS +.*\(default: 10000\)/);
  t.match(text, /LEDGER_DB +.*\(default: \.\/data\/ledger\.db\)/);
  t.match(text, /LEDGER_JWT_SECRET +.*\(default: unset\)/);
  t.same(await runInProcess(['help'], env), help, 'ledger help');
  const bare = await runInProcess([], env);
  t.equal(bare.code, 2, 'no command at all is a usage error');
  t.same(bare.err, help.out, '… with the same overview, on stderr');
  touchedNothing(t, '--help');
});

t.test('--version prints the package version', async (t) => {
  const { version } = (await import('../../package.json', { with: { type: 'json' } })).default as { version: string };
  const run = await runLedger(['--version'], env);
  t.equal(run.code, 0);
  t.equal(run.stdout, `${version}\n`);
});

t.test('help for what does not exist, and misuse, exit 2 with the reason', async (t) => {
  const cases: [string[], RegExp][] = [
    [['help', 'frobnicate'], /unknown command "frobnicate"/],
    [['help', 'token', 'serve'], /help names one command/],
    [['token', '--role'], /Option '--role <value>' argument missing\nusage: ledger token \[options\] {3}\(ledger token --help says more\)/],
    [['replay', 'now'], /unexpected arguments: now/],
    [['history'], /missing <sessionId>/],
    [['webhooks'], /missing <list\|retry\|replay> \[<webhook-id>\|<subscription-id>\]/],
    [['webhooks', 'retry', 'a', 'b'], /unexpected arguments: b/],
  ];
  for (const [args, said] of cases) {
    const run = await runInProcess(args, env);
    t.equal(run.code, 2, args.join(' '));
    t.match(run.err.join('\n'), said, args.join(' '));
    t.same(run.out, [], `${args.join(' ')}: nothing on stdout`);
  }
  touchedNothing(t, 'misuse');
});

t.test("the README's table of variables names exactly the configuration's", async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = readme.slice(readme.indexOf('| variable | default | meaning |'));
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
  t.same(rows.map((row) => /^\| `([A-Z_]+)` \|/.exec(row)?.[1]).sort(), Object.keys(environmentSchema).sort());
});
