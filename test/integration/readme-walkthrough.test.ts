/**
 * The README's "Five minutes with curl", run as written against a real `ledger serve`: only
 * the build step, the ledger's address and how `ledger` is started (this test's TypeScript
 * loader instead of the build) are put in; every curl and answer is the reader's.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { JWT_SECRET } from '../support/ledger-server.js';
import { serveLedger } from '../support/served-ledger.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Five minutes with curl'), readme.indexOf('### The same flows through the typed client'));
const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

t.test('the walkthrough keeps its answers in a folder of its own, not at fixed /tmp names', async (t) => {
  t.equal(blocks.length, 2, 'the success flow, then the failure flow');
  t.notMatch(section, /\/tmp\//);
  t.match(blocks[0], /work=\$\(mktemp -d\)/);
});

t.test('run as written, it shows completed, then failed, then completed with its anomaly', async (t) => {
  const served = await serveLedger();
  t.teardown(() => served.stop());
  const script = blocks
    .join('\n')
    .replace('npm run build >/dev/null\n', '')
    .replace('ledger() { node dist/src/cli/main.js "$@"; }', `ledger() { ${[process.execPath, ...process.execArgv, main].map((word) => `'${word}'`).join(' ')} "$@"; }`)
    .replaceAll('localhost:3000', served.url.replace('http://', ''))
    .concat('\nrm -rf "$work"\n');
  t.notMatch(script, 'dist/src', 'the build is not needed');
  const run = spawnSync('bash', ['-c', script], { env: { ...process.env, LEDGER_DB: served.db, LEDGER_JWT_SECRET: JWT_SECRET }, encoding: 'utf8', timeout: 120_000 });
  t.equal(run.status, 0, run.stderr);
  const answers = run.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const reads = answers.filter((answer) => 'userId' in answer);
  t.match(
    reads.map(({ status }) => status),
    ['completed', 'failed', 'completed'],
    'step 4, step 5 and step 6 read by the frontend',
  );
  t.match(reads[2], { anomalies: [{ kind: 'completedAfterFailure' }] });
  t.same(
    answers.filter((answer) => 'title' in answer),
    [],
    'no problem answered',
  );
});
