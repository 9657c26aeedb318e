import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const entry = fileURLToPath(new URL('../../src/client/index.ts', import.meta.url));

/** The typed client bundled for a web page: one file, and what the bundler had to say about it. */
export interface ClientBundle {
  code: string;
  /** Modules the bundle still imports: what the bundler could not put in it (a Node built-in, say). */
  imports: string[];
  /** The bundler's warnings; an import it cannot resolve for a browser is one (UNRESOLVED_IMPORT). */
  warnings: string[];
}

/**
 * Bundles `src/client/index.ts` and everything it imports, its dependencies included, as a
 * web application's bundler would: for the browser platform, which has no `node:` module and
 * no `fs`. Rolldown (vite's bundler) does not fail on such an import, it leaves it outside
 * the bundle and warns; both are returned for the caller to judge. `iife` makes a classic
 * script that defines `globalThis[globalName]`.
 */
export async function bundleClientForBrowser({ format = 'esm', globalName }: { format?: 'esm' | 'iife'; globalName?: string } = {}): Promise<ClientBundle> {
  const warnings: string[] = [];
  const bundle = await rolldown({
    input: entry,
    platform: 'browser',
    onLog(level, log) {
      if (level === 'warn') warnings.push(log.message);
    },
  });
  try {
    const { output } = await bundle.generate({ format, name: globalName });
    const [chunk, ...others] = output;
    if (others.length > 0) throw new Error(`expected one file, got ${output.length}`);
    return { code: chunk.code, imports: [...chunk.imports, ...chunk.dynamicImports], warnings };
  } finally {
    await bundle.close();
  }
}
