/**
 * `npm run bench --quick`, whole, in a child process: every scenario of bench/scenarios.ts
 * (as the report names them: the bench's modules are not loaded here, so they do not count
 * as code this test covers) runs and gives every figure it measures (a value, or a note saying why there is none), so
 * the bench cannot rot between the runs someone reads. Never checks a value: the figures are
 * the machine's, not the ledger's correctness.
 *
 * The bench is bundled first (test/support/ledger-bundle.ts), so its own child processes (a
 * scenario each, and theirs) start as plain JavaScript instead of compiling under this
 * test's TypeScript loader, each of them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Figure } from '../../bench/figure.js';
import { bundleLedger } from '../support/ledger-bundle.js';

// The quick bench takes about a minute on a 2-core machine shared with other work.
t.setTimeout(240_000);

const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-quick-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const bundle = await bundleLedger({ run: 'bench/run.ts' });
t.teardown(bundle.remove);

const out = join(dir, 'figures.json');
const bench = spawn(process.execPath, [bundle.files.run!, '--quick', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
// SIGTERM: the bench stops the scenario it is running, with that scenario's own processes.
const stopBench = () => void bench.kill('SIGTERM');
t.teardown(stopBench);
process.once('exit', stopBench);
let output = '';
bench.stdout.setEncoding('utf8').on('data', (chunk: string) => void (output += chunk));
bench.stderr.setEncoding('utf8').on('data', (chunk: string) => void (output += chunk));
const code = await new Promise<number | null>((resolve) => bench.on('close', resolve));

t.equal(code, 0, 'the quick bench ends well', { output: output.slice(-4000) });

const report = JSON.parse(readFileSync(out, 'utf8')) as { machine: Record<string, unknown>; quick: boolean; startedAt: string; durationMs: number; scenarios: string[]; figures: Figure[] };
t.equal(report.quick, true, 'the report says it was a quick run');
t.match(report.machine, { cpu: String, cores: Number, memoryGiB: Number, node: process.version, os: String }, 'the report names the machine');
t.ok(Number.isFinite(Date.parse(report.startedAt)) && report.durationMs > 0, 'and when it ran, and for how long');

t.same([...report.scenarios].sort(), ['audit', 'commit-thread', 'http', 'projector', 'store', 'watch'], 'every scenario of bench/scenarios.ts ran');
for (const name of report.scenarios) {
  t.test(`scenario ${name}`, async (t) => {
    const figures = report.figures.filter((figure) => figure.scenario === name);
    t.ok(figures.length > 0, 'gives figures');
    t.notOk(figures.some((figure) => figure.name === 'the scenario failed'), 'did not fail', { figures });
    for (const figure of figures) {
      const measured = typeof figure.value === 'number' && Number.isFinite(figure.value);
      const explained = figure.value === null && typeof figure.note === 'string' && figure.note.length > 0;
      t.ok(measured || explained, `${figure.name}: a value, or a note saying why there is none`, { figure });
      t.ok(figure.unit.length > 0, `${figure.name}: a unit`);
      if (figure.ratio !== undefined) t.ok(report.figures.some((other) => other.name === figure.ratio!.to), `${figure.name}: its ratio's reference is a figure of the run`);
    }
  });
}
t.equal(new Set(report.figures.map((figure) => figure.scenario)).size, report.scenarios.length, 'no figures from a scenario that is not listed');
