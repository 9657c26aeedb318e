import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { projectRoot } from '../project-root.js';
import { ProblemError } from './problem-error.js';

// The static pages the ledger serves itself: the auditor console (built by `npm run build`)
// and the frontend example (plain files, as written).

/** Where `npm run build` writes the console. */
export const CONSOLE_DIR = join(projectRoot, 'dist', 'console');
export const EXAMPLE_DIR = join(projectRoot, 'examples', 'frontend');

/**
 * What the pages may load and talk to: their own origin only, no inline script, and no other
 * site may frame them.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Serves the files of `root` under `prefix/`, the bare `prefix` redirecting there. Without
 * `root` on disk, the pages answer a 404 that says how to get them (`missing`).
 */
export async function servePages(app: FastifyInstance, { root, prefix, missing }: { root: string; prefix: `/${string}`; missing: string }) {
  if (!existsSync(root)) {
    const notBuilt = async () => {
      throw new ProblemError('not-found', missing);
    };
    app.get(prefix, { schema: { hide: true } }, notBuilt);
    app.get(`${prefix}/*`, { schema: { hide: true } }, notBuilt);
    return;
  }
  await app.register(fastifyStatic, {
    root,
    // Without the trailing slash, so that the bare path redirects to the folder.
    prefix,
    redirect: true,
    decorateReply: false,
    schemaHide: true,
    setHeaders(reply) {
      reply.headers({
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
    },
  });
}
