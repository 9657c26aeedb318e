/**
 * The OpenAPI document the server serves passes a real linter: `redocly lint` with the
 * recommended rules and the project's (redocly.yaml), with no error, no warning and nothing
 * ignored. And the linter is live: a document spoiled in known ways fails with those rules.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startLedger } from '../support/ledger-server.js';
import type { OpenApiDocument } from '../support/openapi.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const redocly = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');
const work = mkdtempSync(join(tmpdir(), 'ledger-openapi-lint-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** What `redocly lint --format=json` prints, as far as this test reads it. */
interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
}

/** Lints a document as a file, with the project's config; the exit code and the report. */
async function lint(document: unknown, name: string) {
  const file = join(work, `${name}.json`);
  writeFileSync(file, JSON.stringify(document, null, 2));
  // Not this test's TypeScript loader: the linter is plain JavaScript, run as a user runs it.
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [redocly, 'lint', '--format=json', '--lint-config=error', `--config=${join(root, 'redocly.yaml')}`, file],
      { cwd: root, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }, timeout: 60_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
  let report: LintReport;
  try {
    report = JSON.parse(stdout) as LintReport;
  } catch {
    throw new Error(`redocly printed no report (exit ${code}):\n${stdout}\n${stderr}`);
  }
  return { code, report, stderr };
}

/** One line per problem, for a failure's message. */
const listed = (report: LintReport) =>
  report.problems.map((problem) => `${problem.severity} ${problem.ruleId} at ${problem.location[0]?.pointer}: ${problem.message}`).join('\n');

const ledger = await startLedger({ over: 'inject' });
t.teardown(() => ledger.close());
// The document is read as the linter reads it: as it was served.
const document = (await ledger.call('GET', '/docs/json')).body as OpenApiDocument;

t.test('the served document: no error, no warning, nothing ignored', async (t) => {
  const { code, report, stderr } = await lint(document, 'served');
  t.same(report.totals, { errors: 0, warnings: 0, ignored: 0 }, listed(report) || 'clean');
  t.equal(code, 0, stderr);
});

t.test('the linter is live: a document spoiled in known ways fails with those rules', async (t) => {
  const spoiled = structuredClone(document);
  const { paths = {} } = spoiled;
  // One fault for each of a few recommended rules and each of the project's.
  delete spoiled.servers;
  delete paths['/v1/sessions']!.get!.operationId;
  delete paths['/v1/audit/verify']!.get!.description;
  paths['/v1/audit/verify']!.get!.tags = ['nowhere'];
  const notFound = paths['/v1/sessions/{id}']!.get!.responses['404'] as { content: Record<string, unknown> };
  notFound.content = { 'application/json': notFound.content['application/problem+json'] };
  const seals = paths['/v1/audit/seals']!.get!.responses;
  for (const status of Object.keys(seals)) if (status.startsWith('4')) delete seals[status];
  (paths['/v1/console/login']!.delete!.responses['204'] as { content?: unknown }).content = { 'application/json': { schema: { type: 'null' } } };

  const { code, report } = await lint(spoiled, 'spoiled');
  t.not(code, 0);
  t.same(
    [...new Set(report.problems.map((problem) => problem.ruleId))].sort(),
    [
      'no-empty-servers',
      'operation-description',
      'operation-operationId',
      'operation-tag-defined',
      'rule/errors-are-problems',
      'rule/no-content-in-204',
      'rule/operation-4xx-response',
    ],
    listed(report),
  );
});
