/**
 * The project carries its own design document, and it names what the server serves: every
 * route of the OpenAPI document appears in `docs/design.md`, and the README sends its readers
 * there, not to a file outside the repository.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { startLedger } from '../support/ledger-server.js';
import { operationsOf, type OpenApiDocument } from '../support/openapi.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const design = read('docs/design.md');
const readme = read('README.md');

t.test('the README points at the design document in the repository', async (t) => {
  t.match(readme, '`docs/design.md` is the design');
  t.notMatch(readme, /\.\.\/shared|DESIGN\.md beside/, 'nothing outside the repository');
});

t.test('docs/design.md names every route the server documents', async (t) => {
  const ledger = await startLedger({ over: 'inject' });
  t.teardown(() => ledger.close());
  const document = (await ledger.call('GET', '/docs/json')).body as OpenApiDocument;
  const paths = new Set(operationsOf(document).map(({ path }) => path.replace(/\{[^}]+\}/g, ':param')));
  t.ok(paths.size > 15, `${paths.size} paths`);
  // The design writes a path's parameters as `:id`, `:vmId`, `:sessionId`; compare their shapes.
  const named = design.replace(/:[A-Za-z]+/g, ':param');
  for (const path of paths) t.ok(named.includes(path), `${path} is in docs/design.md`);
});
