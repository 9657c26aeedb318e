import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { sessionStreamName } from '../events/index.js';
import { silentLogger, type PartLogger } from '../part-logger.js';
import { CHECKPOINT_NAME } from '../projector/projector.js';
import { headHash } from '../store/hash-chain.js';
import type { EventStore } from '../store/port.js';
import { LONGEST_TIMER_MS } from '../timers.js';
import { headsHasher } from './heads.js';
import type { Seal, SealsDocument } from '../contract/index.js';
import { sealHash, signSeal, type SealKey } from './seals.js';

interface SealRow {
  seq: bigint;
  position: bigint;
  heads_hash: string;
  previous_seal: string | null;
  sealed_at: string;
  signature: string;
}

const sealOf = (row: SealRow): Seal => ({
  position: String(row.position),
  headsHash: row.heads_hash,
  previousSeal: row.previous_seal,
  sealedAt: row.sealed_at,
  signature: row.signature,
});

/** Every seal the read model holds, oldest first, with the key that signs them. */
export function sealsDocument(db: Database.Database, publicKeyPem: string | null): SealsDocument {
  const rows = db.prepare('select * from seals order by seq').safeIntegers(true).all() as SealRow[];
  return { algorithm: 'Ed25519', publicKey: publicKeyPem, seals: rows.map(sealOf) };
}

export interface SealLogOptions {
  /** The read model's file: the sealer reads it through a connection of its own, in one snapshot. */
  readModelPath: string;
  store: EventStore;
  key: SealKey;
  clock: () => Date;
  /** Rows read per page. */
  pageSize?: number;
}

/**
 * Seals the log as of the read model's checkpoint: the heads of every session stream then
 * (each row's revision and head hash, read in one snapshot with the checkpoint; a head the
 * row does not know, from before the chain or before the column, read from the log), hashed,
 * signed, linked to the previous seal and kept. Returns null when the log has not moved
 * since the last seal, or another sealer sealed meanwhile.
 */
export async function sealLog({ readModelPath, store, key, clock, pageSize = 1000 }: SealLogOptions): Promise<Seal | null> {
  const db = new Database(readModelPath, { timeout: 5000 });
  db.defaultSafeIntegers(true);
  try {
    db.exec('begin');
    let last: SealRow | undefined;
    let statement;
    try {
      // The first read takes the snapshot every later one of this transaction sees.
      const position = (db.prepare('select position from projector_checkpoint where name = ?').pluck().get(CHECKPOINT_NAME) as bigint | undefined) ?? 0n;
      last = db.prepare('select * from seals order by seq desc limit 1').get() as SealRow | undefined;
      if (last !== undefined && last.position === position) return null;
      const heads = headsHasher();
      const page = db.prepare('select session_id, revision, head_hash from auth_sessions where session_id > ? order by session_id limit ?');
      for (let after = ''; ; ) {
        const rows = page.all(after, pageSize) as { session_id: string; revision: bigint; head_hash: string | null }[];
        if (rows.length === 0) break;
        for (const row of rows) {
          const streamName = sessionStreamName(row.session_id);
          const hash = row.head_hash ?? headHash((await store.readStoredStream(streamName)).filter((event) => event.position <= position));
          heads.add(streamName, row.revision, hash);
        }
        after = rows.at(-1)!.session_id;
      }
      statement = { position: String(position), headsHash: heads.digest(), previousSeal: last === undefined ? null : sealHash(sealOf(last)), sealedAt: clock().toISOString() };
    } finally {
      db.exec('commit');
    }
    const seal = signSeal(statement, key.privateKey);
    const kept = db
      .transaction(() => {
        // Another sealer on this file may have sealed meanwhile; then this seal would not follow it.
        const newest = db.prepare('select max(seq) from seals').pluck().get() as bigint | null;
        if (newest !== (last?.seq ?? null)) return false;
        db.prepare('insert into seals (position, heads_hash, previous_seal, sealed_at, signature) values (?, ?, ?, ?, ?)').run(
          BigInt(seal.position),
          seal.headsHash,
          seal.previousSeal,
          seal.sealedAt,
          seal.signature,
        );
        return true;
      })
      .immediate();
    return kept ? seal : null;
  } finally {
    db.close();
  }
}

export interface Sealer {
  sealOnce(): Promise<Seal | null>;
  /** Seals every `intervalMs` (if the log moved); returns at once. */
  start(): void;
  /** Resolves once the seal in progress, if any, is kept. */
  stop(): Promise<void>;
}

/** `serve`'s sealer: a seal every `intervalMs` while the log moves. */
export function createSealer(options: SealLogOptions & { intervalMs: number; logger?: PartLogger }): Sealer {
  const { intervalMs, logger = silentLogger } = options;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1 || intervalMs > LONGEST_TIMER_MS) throw new RangeError(`invalid seal interval ${String(intervalMs)}`);
  let stopping: AbortController | null = null;
  let loop: Promise<void> = Promise.resolve();

  const sealOnce = async () => {
    const seal = await sealLog(options);
    if (seal) logger.info({ position: seal.position, headsHash: seal.headsHash }, 'sealed the log');
    return seal;
  };

  return {
    sealOnce,
    start() {
      if (stopping) return;
      const controller = (stopping = new AbortController());
      logger.info({ intervalMs }, 'sealer started');
      loop = (async () => {
        while (!controller.signal.aborted) {
          // Unreferenced: a sealer left running must not keep the process alive on its own.
          await sleep(intervalMs, undefined, { signal: controller.signal, ref: false }).catch(() => {});
          if (controller.signal.aborted) break;
          await sealOnce().catch((error: unknown) => logger.error({ err: error }, 'sealing failed; the next interval tries again'));
        }
      })();
    },
    async stop() {
      stopping?.abort();
      stopping = null;
      await loop;
    },
  };
}
