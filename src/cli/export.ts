import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { storeChoiceOf } from '../application/create-ledger.js';
import { openEventLog } from '../application/open-store.js';
import { exportPages } from '../audit/export.js';
import { Decimal, SessionId, Timestamp } from '../contract/index.js';
import { SESSION_CATEGORY } from '../events/index.js';
import { defineCommand, STORE_ENVIRONMENT, UsageError } from './command.js';

const Filter = z.strictObject({
  after: Decimal.optional(),
  session: SessionId.optional(),
  since: Timestamp.optional(),
  until: Timestamp.optional(),
  out: z.string().min(1).optional(),
});

/**
 * Every event as NDJSON (position, stream, revision, id, type, data, metadata, hash), to
 * stdout or a file, streamed: the next page of the log is read only as the output takes the
 * last one, so memory does not grow with the log. `ledger verify --export` checks the result.
 */
export const exportCommand = defineCommand({
  name: 'export',
  summary: 'write every event as NDJSON with its hash (from a position; one session; a time range) to stdout or --out',
  options: {
    after: { type: 'string', value: '<position>', description: 'only events after this position of the log' },
    session: { type: 'string', value: '<sessionId>', description: "only this session's events" },
    since: { type: 'string', value: '<ISO time>', description: 'only events recorded at or after this time' },
    until: { type: 'string', value: '<ISO time>', description: 'only events recorded before this time' },
    out: { type: 'string', value: '<file>', description: 'write to this file instead of stdout' },
  },
  environment: STORE_ENVIRONMENT,
  examples: ['ledger export --out ledger-export.ndjson', 'ledger export --since 2026-12-01T00:00:00Z --until 2026-12-02T00:00:00Z'],
  async run({ values }, { config, stdout, progress }) {
    const filter = Filter.safeParse(values);
    if (!filter.success) throw new UsageError(z.prettifyError(filter.error));
    const { after, session, since, until, out } = filter.data;
    const store = await openEventLog(storeChoiceOf(config, 'read-only'));
    try {
      const bar = progress('export', Number(await store.lastPosition({ category: SESSION_CATEGORY })));
      let lines = 0;
      const counting = new Transform({
        // The pages come as strings.
        writableObjectMode: true,
        transform(chunk: string, _encoding, done) {
          lines += chunk.split('\n').length - 1;
          bar.update(lines);
          done(null, chunk);
        },
      });
      const pages = exportPages(store, {
        after: after === undefined ? undefined : BigInt(after),
        sessionId: session,
        since: since === undefined ? undefined : Date.parse(since),
        until: until === undefined ? undefined : Date.parse(until),
      });
      await pipeline(Readable.from(pages, { highWaterMark: 1 }), counting, out === undefined ? stdout : createWriteStream(out));
      bar.stop(`exported ${lines} events${out === undefined ? '' : ` to ${out}`}`);
      return 0;
    } finally {
      await store.close();
    }
  },
});
