// A separate process writing to a ledger file, for tests of races and crashes that only
// real processes can show. Prints one JSON line per acknowledged append.
import { randomUUID } from 'node:crypto';
import { openSqliteEventStore } from '../../src/store/sqlite/index.js';
import { newSessionStarted, newCredentialsStored } from './events.js';

const [mode, path, arg] = process.argv.slice(2) as [string, string, string];
const store = openSqliteEventStore({ path });

if (mode === 'race') {
  // Says it is ready, waits for the parent's "go" on stdin (sent to every racer at once),
  // then appends at expected revision 0.
  console.log(JSON.stringify({ ready: true }));
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const sessionId = arg;
  try {
    const result = await store.append(`authSession-${sessionId}`, [newCredentialsStored(sessionId)], { expectedRevision: 0n });
    console.log(JSON.stringify({ won: true, revision: String(result.revision) }));
  } catch (error) {
    console.log(JSON.stringify({ won: false, error: (error as Error).name }));
  }
} else if (mode === 'forever') {
  // Appends until killed; each line is printed only after the append is acknowledged.
  for (;;) {
    const sessionId = randomUUID();
    const result = await store.append(`authSession-${sessionId}`, [newSessionStarted(sessionId)]);
    console.log(JSON.stringify({ sessionId, position: String(result.position) }));
  }
} else if (mode === 'one') {
  const sessionId = arg;
  const result = await store.append(`authSession-${sessionId}`, [newSessionStarted(sessionId)]);
  console.log(JSON.stringify({ position: String(result.position) }));
}
await store.close();
