import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { Decimal } from '../contract/index.js';
import { eventHash, GENESIS_HASH } from '../store/hash-chain.js';

/** An export line as `exportLine` writes it; `data` and `metadata` are kept as parsed, to be written again. */
const ExportedEvent = z.object({
  position: Decimal,
  streamName: z.string().min(1),
  revision: Decimal,
  eventId: z.string().min(1),
  type: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
  hash: z.string().nullable(),
});

export interface ExportReport {
  lines: number;
  events: number;
  streams: number;
  /** Streams whose first exported event is not their first (an export from a position): their first link could not be checked. */
  unanchored: number;
  chainBreaks: { streamName: string; revision: string; reason: 'hash' | 'sequence' }[];
  malformed: { line: number; reason: string }[];
}

/**
 * Checks the hash chains in an export, offline: for each stream, revisions in sequence and
 * each hash the one its place gives. Holds one head per stream, and reads line by line.
 */
export async function verifyExport(input: Readable): Promise<ExportReport> {
  const report: ExportReport = { lines: 0, events: 0, streams: 0, unanchored: 0, chainBreaks: [], malformed: [] };
  /** Each stream's last checked revision and hash; null once its chain is broken. */
  const heads = new Map<string, { revision: bigint; hash: string } | null>();
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    report.lines++;
    if (text.trim() === '') continue;
    let parsed: z.infer<typeof ExportedEvent>;
    try {
      parsed = ExportedEvent.parse(JSON.parse(text));
    } catch (error) {
      report.malformed.push({ line: report.lines, reason: error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message });
      continue;
    }
    report.events++;
    const revision = BigInt(parsed.revision);
    const event = { ...parsed, revision, dataJson: JSON.stringify(parsed.data), metadataJson: JSON.stringify(parsed.metadata) };
    let head = heads.get(parsed.streamName);
    if (head === undefined) {
      report.streams++;
      if (revision === 0n) head = { revision: -1n, hash: GENESIS_HASH };
      else {
        // Nothing to link it to: take it as it says, and check what follows.
        report.unanchored++;
        heads.set(parsed.streamName, parsed.hash === null ? null : { revision, hash: parsed.hash });
        continue;
      }
    }
    if (head === null) continue;
    const broken = (reason: 'hash' | 'sequence') => {
      report.chainBreaks.push({ streamName: parsed.streamName, revision: parsed.revision, reason });
      heads.set(parsed.streamName, null);
    };
    if (revision !== head.revision + 1n) {
      broken('sequence');
      continue;
    }
    const hash = eventHash(head.hash, event);
    if (parsed.hash !== null && parsed.hash !== hash) {
      broken('hash');
      continue;
    }
    heads.set(parsed.streamName, { revision, hash });
  }
  return report;
}

export const exportIsClean = (report: ExportReport) => report.chainBreaks.length === 0 && report.malformed.length === 0;
