/**
 * The typed client installs on its own: `npm pack` of packages/client, unpacked into a
 * folder whose node_modules holds the package and the dependencies its manifest names, and
 * nothing else, where a TypeScript file and a script import it by its name against a real
 * ledger. A server dependency the client reached for would fail to resolve there.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { startLedger } from '../support/ledger-server.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const work = mkdtempSync(join(tmpdir(), 'ledger-client-package-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const ledger = await startLedger();
t.teardown(() => ledger.close());

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  bin?: unknown;
}
const readManifest = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Manifest;
const server = readManifest(join(root, 'package.json'));

/** Every file under `dir`, as paths relative to it. */
const filesUnder = (dir: string, prefix = ''): string[] =>
  readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(dir, join(prefix, entry.name)) : [join(prefix, entry.name)],
  );

const { stdout: packed } = await run('npm', ['pack', join(root, 'packages', 'client'), '--pack-destination', work, '--json'], { cwd: root, timeout: 120_000 });
const [{ filename }] = JSON.parse(packed) as [{ filename: string }];
const consumer = join(work, 'consumer');
const installed = join(consumer, 'node_modules', 'session-ledger-client');
mkdirSync(installed, { recursive: true });
await run('tar', ['xzf', join(work, filename), '-C', installed, '--strip-components=1']);
const manifest = readManifest(join(installed, 'package.json'));
const dependencies = Object.keys(manifest.dependencies ?? {});

t.test('the packed client depends on zod, eventsource-parser and OpenTelemetry\'s API only, at the server\'s versions', async (t) => {
  t.equal(manifest.name, 'session-ledger-client');
  t.same(dependencies.sort(), ['@opentelemetry/api', 'eventsource-parser', 'zod']);
  for (const name of dependencies) t.equal(manifest.dependencies![name], server.dependencies![name], `${name}: the range the server is tested with`);
  t.notOk(manifest.bin, 'no command comes with it');
  for (const heavy of ['better-sqlite3', '@eventstore/db-client', 'fastify', 'pino']) {
    t.notOk(dependencies.includes(heavy), `${heavy} is the server's, not the client's`);
  }
});

t.test('every module in the package imports only its own files and its dependencies', async (t) => {
  const modules = filesUnder(installed).filter((file) => /\.(js|d\.ts)$/.test(file));
  t.ok(modules.some((file) => file.startsWith('dist/contract/')), 'the wire contract travels with the client');
  t.notOk(modules.some((file) => /^dist\/(http|store|projector|application|events|decide)\//.test(file)), 'no server module is packed');
  const foreign: string[] = [];
  for (const file of modules) {
    // Comments may quote an import; only code counts.
    const text = readFileSync(join(installed, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      if (!specifier!.startsWith('.') && !dependencies.includes(specifier!)) foreign.push(`${file}: ${specifier}`);
    }
  }
  t.same(foreign, [], 'no import of a server package or of a Node built-in: the client runs in a browser too');
});

t.test('installed beside its dependencies alone, it type-checks for a browser and runs against a real ledger', async (t) => {
  for (const name of dependencies) {
    // A scoped package sits in its scope's folder.
    mkdirSync(dirname(join(consumer, 'node_modules', name)), { recursive: true });
    symlinkSync(join(root, 'node_modules', name), join(consumer, 'node_modules', name), 'dir');
  }
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(
    join(consumer, 'consumer.ts'),
    [
      "import { createLedgerClient, isLedgerProblem, type Session } from 'session-ledger-client';",
      "const client = createLedgerClient({ baseUrl: 'http://127.0.0.1:1', token: 't' });",
      "export const read: () => Promise<Session> = () => client.getSession('s', { after: '1' });",
      'export const statusOf = (error: unknown): number | undefined => (isLedgerProblem(error) ? error.status : undefined);',
      // A wrong answer type must not compile: the types are real, not `any`.
      '// @ts-expect-error',
      "export const wrong: () => Promise<number> = () => client.getSession('s');",
    ].join('\n'),
  );
  // A browser's libraries and no Node types: what the client's declarations need is all there.
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, lib: ['ES2023', 'DOM'], types: [] }, files: ['consumer.ts'] }),
  );
  const typecheck = await run(process.execPath, [tsc, '-p', join(consumer, 'tsconfig.json')], { timeout: 120_000 }).then(
    () => ({ code: 0, stdout: '' }),
    (error: { code: number; stdout: string }) => error,
  );
  t.equal(typecheck.code, 0, `tsc resolves 'session-ledger-client' to the client's declarations\n${typecheck.stdout}`);

  writeFileSync(
    join(consumer, 'consumer.mjs'),
    [
      "import { createLedgerClient } from 'session-ledger-client';",
      'const client = createLedgerClient({ baseUrl: process.env.LEDGER_URL, token: process.env.LEDGER_TOKEN });',
      "const started = await client.startSession({ userId: 'package-user', provider: 'gemini', browserVmId: 'vm-package' });",
      'console.log(JSON.stringify(await client.getSession(started.sessionId, { after: started.position })));',
    ].join('\n'),
  );
  const { stdout } = await run(process.execPath, [join(consumer, 'consumer.mjs')], {
    cwd: consumer,
    env: { PATH: process.env.PATH, LEDGER_URL: ledger.url, LEDGER_TOKEN: ledger.controller },
    timeout: 60_000,
  });
  t.match(JSON.parse(stdout), { userId: 'package-user', provider: 'gemini', status: 'pending' }, 'node runs the installed client by its name');
});

t.test('the server package no longer hands out the client', async (t) => {
  t.same(Object.keys(server).filter((key) => ['exports', 'main', 'types'].includes(key)), [], 'the client is its own package');
  t.ok(server.bin, 'the server package is the `ledger` command');
});
