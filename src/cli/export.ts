import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { createLedger, ledgerOptionsOf } from '../application/create-ledger.js';
import { exportPages } from '../audit/export.js';
import { Decimal, SessionId, Timestamp } from '../contract/index.js';
import { SESSION_CATEGORY } from '../events/index.js';
import { parseArguments } from './arguments.js';
import type { CliCommand } from './command.js';

const usage = 'ledger export [--after <position>] [--session <id>] [--since <ISO>] [--until <ISO>] [--out <file>]';

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
export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'write every event as NDJSON with its hash (from a position; one session; a time range) to stdout or --out',
  usage,
  async run(args, { config, err, clock, stdout, progress }) {
    const parsed = parseArguments(
      args,
      { after: { type: 'string' }, session: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, out: { type: 'string' } },
      usage,
      err,
    );
    if (!parsed) return 2;
    const filter = Filter.safeParse(parsed.values);
    if (parsed.positionals.length > 0 || !filter.success) {
      err(`${filter.success ? `unexpected arguments: ${parsed.positionals.join(' ')}` : z.prettifyError(filter.error)}\nusage: ${usage}`);
      return 2;
    }
    const { after, session, since, until, out } = filter.data;
    const ledger = await createLedger(ledgerOptionsOf(config, clock));
    try {
      const bar = progress('export', Number(await ledger.store.lastPosition({ category: SESSION_CATEGORY })));
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
      const pages = exportPages(ledger.store, {
        after: after === undefined ? undefined : BigInt(after),
        sessionId: session,
        since: since === undefined ? undefined : Date.parse(since),
        until: until === undefined ? undefined : Date.parse(until),
      });
      await pipeline(Readable.from(pages, { highWaterMark: 1 }), counting, out === undefined ? stdout : createWriteStream(out));
      bar.stop(`exported ${lines} events${out === undefined ? '' : ` to ${out}`}`);
      return 0;
    } finally {
      await ledger.close();
    }
  },
};
