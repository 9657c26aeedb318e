import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { startLedger } from '../support/ledger-server.js';

// `import { createLedgerClient } from 'session-ledger'`, as a user of the package writes it:
// the project is built (into a folder of its own, leaving ./dist alone) under a copy of
// package.json, and a script and a TypeScript file inside that folder import the package by
// its name, which Node and tsc resolve through `exports`, as they would in node_modules.

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const pkg = mkdtempSync(join(tmpdir(), 'ledger-package-'));
t.teardown(() => rmSync(pkg, { recursive: true, force: true }));

const ledger = await startLedger();
t.teardown(() => ledger.close());

t.test('the package name resolves to the built client, its types and its code', async (t) => {
  await run(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')], { timeout: 120_000 });
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');

  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  t.same(manifest.bin, { ledger: 'dist/src/cli/main.js' }, 'the CLI is still the bin');

  writeFileSync(
    join(pkg, 'consumer.ts'),
    [
      "import { createLedgerClient, isLedgerProblem, type Session } from 'session-ledger';",
      "const client = createLedgerClient({ baseUrl: 'http://127.0.0.1:1', token: 't' });",
      "export const read: () => Promise<Session> = () => client.getSession('s', { after: '1' });",
      'export const statusOf = (error: unknown): number | undefined => (isLedgerProblem(error) ? error.status : undefined);',
      // A wrong answer type must not compile: the types are real, not `any`.
      '// @ts-expect-error',
      "export const wrong: () => Promise<number> = () => client.getSession('s');",
    ].join('\n'),
  );
  writeFileSync(
    join(pkg, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['consumer.ts'] }),
  );
  const typecheck = await run(process.execPath, [tsc, '-p', join(pkg, 'tsconfig.json')], { timeout: 120_000 }).then(
    () => ({ code: 0, stdout: '' }),
    (error: { code: number; stdout: string }) => error,
  );
  t.equal(typecheck.code, 0, `tsc resolves 'session-ledger' to the client's declarations\n${typecheck.stdout}`);

  writeFileSync(
    join(pkg, 'consumer.mjs'),
    [
      "import { createLedgerClient } from 'session-ledger';",
      'const client = createLedgerClient({ baseUrl: process.env.LEDGER_URL, token: process.env.LEDGER_TOKEN });',
      "const started = await client.startSession({ userId: 'package-user', provider: 'gemini', browserVmId: 'vm-package' });",
      'console.log(JSON.stringify(await client.getSession(started.sessionId, { after: started.position })));',
    ].join('\n'),
  );
  const { stdout } = await run(process.execPath, [join(pkg, 'consumer.mjs')], {
    env: { ...process.env, LEDGER_URL: ledger.url, LEDGER_TOKEN: ledger.controller },
    timeout: 60_000,
  });
  t.match(JSON.parse(stdout), { userId: 'package-user', provider: 'gemini', status: 'pending' }, 'node runs the built client by the package name');
});
