/**
 * The ledger's Dockerfile, read instruction by instruction (no Docker engine runs where this
 * suite runs): stages, user, the production install, and that what `serve` imports is in it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import t from 'tap';

const root = new URL('../../', import.meta.url);
const packageJson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions per stage, continuation lines joined, comments dropped. */
function stagesOf(dockerfile: string): Stage[] {
  const lines = dockerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const stages: Stage[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [, keyword, args] = /^(\w+)\s+(.*)$/.exec(trimmed) ?? [];
    if (!keyword) throw new Error(`unreadable Dockerfile line: ${trimmed}`);
    if (keyword.toUpperCase() === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args!.trim()) ?? [];
      stages.push({ from: from!, name, instructions: [] });
      continue;
    }
    stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args: args!.replace(/\s+/g, ' ') });
  }
  return stages;
}

const stages = stagesOf(readFileSync(new URL('Dockerfile', root), 'utf8'));
const runtime = stages.at(-1)!;
const all = (stage: Stage, keyword: string) => stage.instructions.filter((instruction) => instruction.keyword === keyword);
const stageNamed = (name: string) => stages.find((stage) => stage.name === name);
/** The stage a `COPY --from=<stage> <path>` takes from. */
const copiedFrom = (stage: Stage, path: string) =>
  all(stage, 'COPY')
    .map((copy) => /^--from=(\S+) (\S+) /.exec(copy.args))
    .find((match) => match?.[2] === path)?.[1];

t.test('multi-stage: compilers and dev dependencies stay in the build stages', async (t) => {
  t.ok(stages.length >= 3, `${stages.length} stages`);
  const nodeMajor = /(\d+)/.exec(packageJson.engines.node)![1];
  for (const stage of stages.filter((stage) => stage.from.startsWith('node:'))) {
    t.match(stage.from, new RegExp(`^node:${nodeMajor}-`), `${stage.name}: Node ${nodeMajor}, the version the engines field names`);
  }
  t.notOk(all(runtime, 'RUN').some((run) => /\bnpm (ci|install)\b|apt-get install/.test(run.args)), 'the final stage installs nothing');

  const nodeModulesFrom = stageNamed(copiedFrom(runtime, '/app/node_modules')!);
  t.ok(nodeModulesFrom, 'node_modules comes from a stage of this file');
  const installs = all(nodeModulesFrom!, 'RUN').filter((run) => /\bnpm ci\b/.test(run.args));
  t.equal(installs.length, 1);
  t.match(installs[0]!.args, /npm ci --omit=dev/, 'with production dependencies only');

  const distFrom = stageNamed(copiedFrom(runtime, '/app/dist')!);
  t.ok(distFrom, 'dist/ comes from a stage of this file');
  t.ok(all(distFrom!, 'RUN').some((run) => run.args === 'npm run build'), 'compiled by the project\'s own build script');
  t.not(distFrom, nodeModulesFrom, 'the compiled code and the production install come from different stages');
});

t.test('the final stage runs `ledger serve` as an unprivileged user', async (t) => {
  const users = all(runtime, 'USER');
  t.equal(users.length, 1);
  t.notMatch(users[0]!.args, /^(root|0)(:|$)/, 'not root');
  t.same(JSON.parse(all(runtime, 'CMD')[0]!.args), ['node', 'dist/src/cli/main.js', 'serve'], 'node itself as PID 1: SIGTERM reaches serve');
  t.same(all(runtime, 'ENTRYPOINT'), [], 'nothing wraps it');
  const env = all(runtime, 'ENV').map((instruction) => instruction.args).join(' ');
  t.match(env, /LEDGER_HOST=0\.0\.0\.0/, 'listens on the container network, not its loopback');
  t.match(env, /LEDGER_DB=\/data\//, 'the read model (or the embedded store) on the data volume');
  t.ok(all(runtime, 'VOLUME').some((volume) => volume.args === '/data'));
  t.match(all(runtime, 'RUN').map((run) => run.args).join(' '), /chown node:node \/data/, 'which the user may write');
  t.match(all(runtime, 'HEALTHCHECK')[0]?.args, /\/readyz/, 'healthy means ready: store reachable, projector caught up');
});

t.test('everything the build stages copy from the project is in it', async (t) => {
  for (const stage of stages) {
    for (const copy of all(stage, 'COPY').filter((instruction) => !instruction.args.startsWith('--from='))) {
      const paths = copy.args.split(' ').slice(0, -1);
      for (const path of paths) t.ok(existsSync(new URL(path, root)), `${stage.name}: ${path}`);
    }
  }
});

/** Bare package names imported by the TypeScript files under `dir`. */
function importedPackages(dir: URL, found = new Set<string>()): Set<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      importedPackages(new URL(`${entry.name}/`, dir), found);
      continue;
    }
    if (!entry.name.endsWith('.ts')) continue;
    const text = readFileSync(new URL(entry.name, dir), 'utf8');
    const statements = /^\s*(?:import|export)\s[^;]*?\bfrom\s+'([^']+)'|^\s*import\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm;
    for (const match of text.matchAll(statements)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (specifier!.startsWith('.') || specifier!.startsWith('node:') || builtinModules.includes(specifier!)) continue;
      const parts = specifier!.split('/');
      found.add(specifier!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
    }
  }
  return found;
}

t.test('what the ledger imports at run time is a production dependency, so `npm ci --omit=dev` has it', async (t) => {
  const imported = new Set([...importedPackages(new URL('src/', root)), ...importedPackages(new URL('projections/', root))]);
  t.ok(imported.has('fastify') && imported.has('@eventstore/db-client'), 'the scan finds the ledger\'s imports');
  for (const name of [...imported].sort()) {
    t.ok(name in packageJson.dependencies, `${name} is in dependencies${name in packageJson.devDependencies ? ' (it is only in devDependencies)' : ''}`);
  }
});
