/**
 * The typed client runs in a browser too: a web application's bundler takes `src/client/`
 * for the browser platform with nothing left over, and its sources compile against a
 * browser's libraries without Node's types. A `node:` import (or `fs`, `crypto`, …) anywhere
 * the client reaches fails the first; `process`, `Buffer` or the `NodeJS` namespace fails the
 * second.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { bundleClientForBrowser } from '../support/client-bundle.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

t.test('bundled for the browser platform, the client is one self-contained file: nothing unresolved, no Node built-in', async (t) => {
  const bundle = await bundleClientForBrowser();
  t.same(bundle.warnings, [], 'the bundler resolved every import for a browser');
  t.same(bundle.imports, [], 'nothing is left outside the bundle');
  t.match(bundle.code, /export \{[^}]*\bcreateLedgerClient\b/, 'and it is the client');
});

t.test("the client's sources type-check against a browser's libraries, without Node's types", async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'ledger-client-browser-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  // The project's compiler options, but the DOM's globals in place of Node's.
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: { lib: ['ES2023', 'DOM'], types: [], noEmit: true, rootDir: root },
      include: [],
      files: [join(root, 'src', 'client', 'index.ts')],
    }),
  );
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const checked = await promisify(execFile)(process.execPath, [tsc, '-p', join(work, 'tsconfig.json')], { timeout: 120_000 }).then(
    () => ({ code: 0, stdout: '' }),
    (error: { code: number; stdout: string }) => error,
  );
  t.equal(checked.code, 0, `tsc finds nothing of Node's in src/client\n${checked.stdout}`);
});
