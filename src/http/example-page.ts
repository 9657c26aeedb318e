import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { EXAMPLE_DIR, servePages } from './web-pages.js';

/**
 * The frontend example at `/example/`: one static page that shows a login's status live with
 * the browser's own `EventSource` and a watch ticket, as the platform's frontend does.
 */
export const examplePage = fp<{ root?: string | undefined }>(
  async (app: FastifyInstance, { root = EXAMPLE_DIR }) => {
    await servePages(app, { root, prefix: '/example', missing: 'the frontend example is not in this installation (examples/frontend/)' });
  },
  { name: 'example-page', fastify: '5.x', encapsulate: true },
);
