/**
 * Every installed package with an install script is decided on in package.json's
 * `allowScripts` (allowed or denied, the reason in the README), so `npm install` on a fresh
 * clone runs only what was chosen and leaves nothing for the user to approve.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('../..', import.meta.url));
const listed = spawnSync('npm', ['install-scripts', 'ls', '--json'], { cwd: root, encoding: 'utf8' });
const unknownCommand = listed.status !== 0 && /Unknown command|install-scripts/.test(listed.stderr) && !listed.stdout.trim().startsWith('{');

t.test('no install script is left undecided', { skip: unknownCommand ? `this npm has no install-scripts command: ${listed.stderr.split('\n')[0]}` : false }, async (t) => {
  t.equal(listed.status, 0, listed.stderr);
  t.same((JSON.parse(listed.stdout) as { allowScripts: unknown[] }).allowScripts, [], 'npm install-scripts ls finds none unreviewed');
});
