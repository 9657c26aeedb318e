import { createHash, type Hash } from 'node:crypto';

/**
 * What a seal signs of the log: `headsHash`, SHA-256 over one line per session stream that
 * has an event at or before the seal's position, in ascending order of the stream names
 * (byte order; the names are ASCII):
 *
 *   <streamName> <revision> <hash>\n
 *
 * where `revision` and `hash` are those of the stream's last event at or before the
 * position: its chain head then. Whoever recomputes the heads from the log gets the same
 * digest, unless an event at or before the position was edited, removed or added.
 */
export function headsLine(streamName: string, revision: bigint, hash: string): string {
  return `${streamName} ${revision} ${hash}\n`;
}

/** Feeds heads lines, in order, into one digest. */
export interface HeadsHasher {
  add(streamName: string, revision: bigint, hash: string): void;
  digest(): string;
}

export function headsHasher(): HeadsHasher {
  const hash: Hash = createHash('sha256');
  return {
    add: (streamName, revision, head) => void hash.update(headsLine(streamName, revision, head), 'utf8'),
    digest: () => hash.digest('hex'),
  };
}
