import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A bundle's entry points: a name (its file will be `<name>.js`) and a source file, from the project's root. */
export type BundleEntries = Record<string, string>;

/** The ledger's sources bundled as plain JavaScript: the path of each entry's file, and a way to remove them. */
export interface LedgerBundle {
  /** `<name>.js` of each entry, by name. */
  files: Record<string, string>;
  remove: () => void;
}

/**
 * Bundles the ledger's TypeScript (the CLI, by default, as `main`) into plain JavaScript with
 * rolldown, for tests that start many real processes: a child under this test's TypeScript
 * loader spends seconds compiling before it runs, a bundled one starts in a fraction of that,
 * and a test that kills and restarts `ledger serve` a dozen times would otherwise spend its
 * time compiling. Same sources, built afresh at each run, so a change to them is what runs.
 * Packages stay outside the bundle, found in node_modules as usual.
 *
 * Written under `dist/` (in its own folder) because the ledger finds its package.json one
 * folder above `dist/` (project-root.ts).
 */
export async function bundleLedger(entries: BundleEntries = { main: 'src/cli/main.ts' }): Promise<LedgerBundle> {
  const dir = join(root, 'dist', `test-bundle-${randomUUID()}`);
  const input = Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, join(root, file)]));
  const bundle = await rolldown({
    input,
    platform: 'node',
    // Relative and absolute imports are the ledger's own sources; anything else is a package or a Node built-in.
    external: (id) => !id.startsWith('.') && !id.startsWith('/'),
  });
  try {
    await bundle.write({ dir, format: 'esm', entryFileNames: '[name].js' });
  } finally {
    await bundle.close();
  }
  return {
    files: Object.fromEntries(Object.keys(entries).map((name) => [name, join(dir, `${name}.js`)])),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
