import type { KeyObject } from 'node:crypto';
import { bucketKey, fold, HOUR_MS, outcomeOf, type OutcomeBucket } from '../../projections/index.js';
import type { OutcomeCount, OutcomesReadModel } from '../projector/outcomes-read-model.js';
import { ledgerEventCodec, SESSION_CATEGORY, sessionIdOfStream, sessionStreamName, type EventCodec, type RecordedEvent, type StoredEvent } from '../events/index.js';
import { CHECKPOINT_NAME } from '../projector/projector.js';
import { sessionRowOf, type SessionRow } from '../projector/session-row.js';
import type { SqliteReadModel } from '../projector/sqlite-read-model.js';
import { chainBreakOf, chainHashes, GENESIS_HASH } from '../store/hash-chain.js';
import type { EventStore } from '../store/port.js';
import { headsHasher, type HeadsHasher } from './heads.js';
import type { Seal } from '../contract/index.js';
import { firstUnsoundSeal, type SealFailure } from './seals.js';

/** A column where the read model and a fresh fold of the log disagree; `row` when one of them has no row. */
export interface Difference {
  sessionId: string;
  column: string;
  readModel: string;
  fold: string;
}

export interface ChainBreakFound {
  sessionId: string;
  /** The first revision where the chain no longer holds. */
  revision: string;
  /** `hash`: an event whose stored hash is not the one its place gives; `sequence`: a revision missing or out of place. */
  reason: 'hash' | 'sequence';
}

/** A stored event this ledger cannot read at all (its data or metadata no longer fit any schema). */
export interface Undecodable {
  sessionId: string;
  revision: string;
  reason: string;
}

/** A bucket of `session_outcomes` whose count is not what a fresh fold of the log gives. */
export interface OutcomeDifference {
  /** The start of the hour the sessions were created in. */
  hour: string;
  provider: string | null;
  status: string;
  failureReason: string | null;
  readModel: number;
  fold: number;
}

export interface SealsReport {
  checked: number;
  /** The first seal that no longer holds, and why; null when every one does. */
  broken: { index: number; position: string; sealedAt: string; reason: SealFailure; streams: string[] } | null;
}

export interface VerifyReport {
  /** The read model's checkpoint when the check began: it is compared with the log up to there (or up to each row's own position, if later). */
  position: string;
  /** Sessions checked: every stream of the log and every row of the read model. */
  checked: number;
  events: number;
  differences: Difference[];
  chainBreaks: ChainBreakFound[];
  undecodable: Undecodable[];
  /** `session_outcomes` against a fresh fold, as of its own checkpoint; absent when not asked. */
  outcomeDifferences?: OutcomeDifference[];
  seals?: SealsReport;
  /** Nothing of the above was found. */
  clean: boolean;
}

export interface VerifyOptions {
  store: EventStore;
  readModel: Pick<SqliteReadModel, 'checkpoint' | 'session' | 'sessionIdsAfter' | 'countSessions'>;
  /** The `session_outcomes` projection, to check too. */
  outcomes?: Pick<OutcomesReadModel, 'snapshot'>;
  codec?: EventCodec;
  /** Seals to hold the log to, with the key that should have signed them. */
  seals?: { seals: readonly Seal[]; publicKey: KeyObject };
  /** Streams (and rows) read per page. */
  pageSize?: number;
  onProgress?: (checked: number, total: number) => void;
}

/** A report as it is being made: whether it is clean is said once it is whole. */
type Findings = Omit<VerifyReport, 'clean'>;

/** True when a report names no difference, break or broken seal. */
const isClean = (report: Findings) =>
  report.differences.length === 0 &&
  report.chainBreaks.length === 0 &&
  report.undecodable.length === 0 &&
  (report.outcomeDifferences ?? []).length === 0 &&
  (report.seals?.broken ?? null) === null;

const shown = (value: unknown) =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ??
  // Stryker disable next-line StringLiteral: unreachable, no column of a row or a fold is undefined; the fallback is for the type.
  'missing';

/** Ascending session ids, page by page, from a source of pages. */
async function* paged(page: (after: string) => Promise<string[]> | string[]): AsyncGenerator<string> {
  for (let after = ''; ; ) {
    const ids = await page(after);
    if (ids.length === 0) return;
    yield* ids;
    after = ids.at(-1)!;
  }
}

/** Every id of either ascending sequence, once, in ascending order. */
async function* union(a: AsyncGenerator<string>, b: AsyncGenerator<string>): AsyncGenerator<string> {
  let [x, y] = [await a.next(), await b.next()];
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value < y.value)) {
      yield x.value;
      x = await a.next();
    } else if (x.done || y.value < x.value) {
      yield y.value;
      y = await b.next();
    } else {
      yield x.value;
      [x, y] = [await a.next(), await b.next()];
    }
  }
}

/**
 * Folds every session's stream afresh and compares it with the read model, row by row and
 * column by column; checks every stream's hash chain; and, given seals, checks their
 * signatures, their own chain and that the log still gives each one's heads. Constant
 * memory: it walks the log's stream names and the read model's ids in order, page by page,
 * and holds one stream at a time (and one running digest per seal).
 */
export async function verifyLedger(options: VerifyOptions): Promise<VerifyReport> {
  const { store, readModel, codec = ledgerEventCodec, pageSize = 500, onProgress } = options;
  const checkpoint = readModel.checkpoint(CHECKPOINT_NAME);
  const total = readModel.countSessions();
  const report: Findings = { position: String(checkpoint), checked: 0, events: 0, differences: [], chainBreaks: [], undecodable: [] };

  const seals = options.seals?.seals ?? [];
  const unsound = options.seals ? firstUnsoundSeal(seals, options.seals.publicKey) : null;
  // Only the seals before the first unsound one are worth holding the log to.
  const checkedSeals = unsound === null ? seals : seals.slice(0, unsound.index);
  const hashers: HeadsHasher[] = checkedSeals.map(() => headsHasher());
  const sealPositions = checkedSeals.map((seal) => BigInt(seal.position));
  /** Streams whose trouble this run found, by session id: what a broken seal can be blamed on. */
  const troubled = new Set<string>();

  // The counts and their checkpoint, read together; each stream is folded up to that checkpoint
  // and counted in its bucket, so the counts can be compared however far the projector has moved.
  const outcomes = options.outcomes?.snapshot();
  const expectedOutcomes = new Map<string, OutcomeBucket & { sessions: number }>();

  const logIds = paged(async (after) =>
    (await store.readStreamNames({ category: SESSION_CATEGORY, after: sessionStreamName(after), maxCount: pageSize })).map(
      // Every name of the category after `authSession-` begins with it: a session's stream.
      // (`authSession` alone, of the category but no session's, sorts before it.)
      (streamName) => sessionIdOfStream(streamName)!,
    ),
  );
  const rowIds = paged((after) => readModel.sessionIdsAfter(after, pageSize));

  for await (const sessionId of union(logIds, rowIds)) {
    const streamName = sessionStreamName(sessionId);
    const stored = await store.readStoredStream(streamName);
    report.events += stored.length;
    const broken = chainBreakOf(stored);
    if (broken) {
      report.chainBreaks.push({ sessionId, revision: String(broken.revision), reason: broken.reason });
      troubled.add(sessionId);
    }
    // A head recorded before the chain has no hash of its own: the one its place gives, from
    // the stream's chain, worked out once and only for such a head.
    let chain: string[] | undefined;
    for (const [index, at] of sealPositions.entries()) {
      const head = lastIndexAtOrBefore(stored, at);
      if (head !== -1) hashers[index]!.add(streamName, stored[head]!.revision, stored[head]!.hash ?? (chain ??= chainHashes(GENESIS_HASH, stored))[head]!);
    }

    const events = decodeAll(stored, codec, sessionId, report);
    if (events !== null && outcomes !== undefined) {
      const bucket = outcomeOf(fold(events.filter((event) => event.position <= outcomes.position)));
      if (bucket !== null) {
        const key = bucketKey(bucket);
        expectedOutcomes.set(key, { ...bucket, sessions: (expectedOutcomes.get(key)?.sessions ?? 0) + 1 });
      }
    }
    if (events === null) {
      troubled.add(sessionId);
    } else if (compareRow(sessionId, readModel.session(sessionId), events, checkpoint, report)) {
      troubled.add(sessionId);
    }
    report.checked++;
    onProgress?.(report.checked, Math.max(total, report.checked));
  }

  if (outcomes !== undefined) report.outcomeDifferences = outcomeDifferences(outcomes.counts, expectedOutcomes);

  if (options.seals) {
    let brokenAt: { index: number; reason: SealFailure } | null = unsound;
    for (const [index, hasher] of hashers.entries()) {
      if (hasher.digest() !== checkedSeals[index]!.headsHash) {
        brokenAt = { index, reason: 'heads' };
        break;
      }
    }
    report.seals = { checked: seals.length, broken: brokenAt === null ? null : brokenSeal(seals[brokenAt.index]!, brokenAt, troubled) };
  }
  return { ...report, clean: isClean(report) };
}

/** What a broken seal is reported as: which, why, and the streams this run found trouble in. */
function brokenSeal(seal: Seal, { index, reason }: { index: number; reason: SealFailure }, troubled: ReadonlySet<string>): NonNullable<SealsReport['broken']> {
  // Stryker disable next-line MethodExpression: equivalent, the walk meets sessions in ascending order already; sorted here so the report does not rest on that.
  return { index, position: seal.position, sealedAt: seal.sealedAt, reason, streams: [...troubled].sort() };
}

/** Each bucket whose count differs between the projection and the fold, either way. */
function outcomeDifferences(kept: readonly OutcomeCount[], expected: ReadonlyMap<string, OutcomeBucket & { sessions: number }>): OutcomeDifference[] {
  const keptByKey = new Map(kept.map((count) => [bucketKey(count), count]));
  const differences: OutcomeDifference[] = [];
  for (const key of new Set([...keptByKey.keys(), ...expected.keys()])) {
    const [have, want] = [keptByKey.get(key), expected.get(key)];
    const bucket = (have ?? want)!;
    if ((have?.sessions ?? 0) === (want?.sessions ?? 0)) continue;
    differences.push({
      hour: new Date(bucket.hour * HOUR_MS).toISOString(),
      provider: bucket.provider,
      status: bucket.status,
      failureReason: bucket.failureReason,
      readModel: have?.sessions ?? 0,
      fold: want?.sessions ?? 0,
    });
  }
  return differences;
}

/** The index of the stream's last event at or before `position`; -1 when none is. */
function lastIndexAtOrBefore(stream: readonly StoredEvent[], position: bigint): number {
  for (let index = stream.length - 1; index >= 0; index--) if (stream[index]!.position <= position) return index;
  return -1;
}

/** The stream's events decoded; null (the first failure reported) when one cannot be. */
function decodeAll(stored: readonly StoredEvent[], codec: EventCodec, sessionId: string, report: Findings): RecordedEvent[] | null {
  let event: StoredEvent | undefined;
  try {
    return stored.map((each) => codec.decode((event = each)));
  } catch (error) {
    report.undecodable.push({ sessionId, revision: String(event!.revision), reason: (error as Error).message });
    return null;
  }
}

/**
 * Compares a row with the fold of its stream up to the checkpoint, or up to the row's own
 * position when the projector has moved on since the check began. Reports each difference;
 * true when there was one.
 */
function compareRow(sessionId: string, row: SessionRow | null, events: readonly RecordedEvent[], checkpoint: bigint, report: Findings): boolean {
  // Stryker disable next-line EqualityOperator: `>=` is equivalent, the two are equal then.
  const upTo = row !== null && row.position > checkpoint ? row.position : checkpoint;
  const folded = events.filter((event) => event.position <= upTo);
  const expected = folded.length === 0 ? null : sessionRowOf(sessionId, fold(folded));
  if (row === null && expected === null) return false;
  if (row === null || expected === null) {
    report.differences.push({ sessionId, column: 'row', readModel: row === null ? 'missing' : shown(row), fold: expected === null ? 'missing' : shown(expected) });
    return true;
  }
  const before = report.differences.length;
  for (const column of Object.keys(expected) as (keyof SessionRow)[]) {
    // Most columns are strings, bigints or null, equal as they are; the rest are compared as JSON.
    // Stryker disable next-line ConditionalExpression: equivalent, equal values show equal; the shortcut only spares most columns a JSON text.
    if (row[column] === expected[column]) continue;
    const [have, want] = [shown(row[column]), shown(expected[column])];
    if (have !== want) report.differences.push({ sessionId, column, readModel: have, fold: want });
  }
  return report.differences.length > before;
}
