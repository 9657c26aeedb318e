/** The offline check of an export, on exports built here line by line. */
import { Readable } from 'node:stream';
import t from 'tap';
import { exportLine } from '../../src/audit/export.js';
import { verifyExport } from '../../src/audit/verify-export.js';
import { ledgerEventCodec, type StoredEvent } from '../../src/events/index.js';
import { appendedHashes, GENESIS_HASH } from '../../src/store/hash-chain.js';
import { newCredentialsStored, newSessionStarted, newVmDestroyed } from '../support/events.js';

/** A stream's events as a store would hold them, chained from the genesis. */
function stream(sessionId: string, firstPosition: bigint): StoredEvent[] {
  const prepared = [newSessionStarted(sessionId), newVmDestroyed(sessionId), newCredentialsStored(sessionId)].map((event) => ledgerEventCodec.prepare(event));
  const streamName = `authSession-${sessionId}`;
  const hashes = appendedHashes(GENESIS_HASH, streamName, 0n, prepared);
  return prepared.map((event, index) => ({ ...event, streamName, revision: BigInt(index), position: firstPosition + BigInt(index), hash: hashes[index]! }));
}

const check = (events: readonly StoredEvent[], extra = '') => verifyExport(Readable.from([events.map(exportLine).join('') + extra]));

t.test('a whole export checks out', async (t) => {
  t.same(await check([...stream('a', 1n), ...stream('b', 4n)]), { lines: 6, events: 6, streams: 2, unanchored: 0, chainBreaks: [], malformed: [] });
});

t.test('an export from a position: a stream that starts after its first event is taken as given, and what follows it is checked', async (t) => {
  const [, second, third] = stream('a', 1n);
  t.match(await check([second!, third!]), { streams: 1, unanchored: 1, chainBreaks: [] });
  t.match(await check([second!, { ...third!, dataJson: third!.dataJson.replace('cred-1', 'cred-2') }]), { unanchored: 1, chainBreaks: [{ streamName: 'authSession-a', revision: '2', reason: 'hash' }] });
});

t.test('a line missing from the middle of a stream breaks its sequence', async (t) => {
  const [first, , third] = stream('a', 1n);
  t.match(await check([first!, third!]), { chainBreaks: [{ revision: '2', reason: 'sequence' }] });
});

t.test('a line that is not an export line is named by its number, and the rest is still checked', async (t) => {
  const report = await check(stream('a', 1n), '{"position":"9"}\nnot json\n\n');
  t.match(report, { lines: 6, events: 3, chainBreaks: [], malformed: [{ line: 4 }, { line: 5 }] });
});

t.test('an event recorded before the chain (no hash) is hashed for the links after it', async (t) => {
  const events = stream('a', 1n);
  t.match(await check([{ ...events[0]!, hash: null }, ...events.slice(1)]), { chainBreaks: [] });
});
