// A separate process running the projector over a ledger file, for tests of crashes that only
// a real process can show. Prints one JSON line when it starts, one after each committed
// batch (with the checkpoint it reached), and one when it has applied the whole log.
import { createProjector } from '../../src/projector/projector.js';
import { openSqliteEventStore } from '../../src/store/sqlite/index.js';

const [path, batchSize] = process.argv.slice(2) as [string, string];
const store = openSqliteEventStore({ path });
const projector = createProjector({ store, db: store.database, batchSize: Number(batchSize) });
const say = (line: object) => console.log(JSON.stringify(line));

projector.onChange(() => say({ position: String(projector.position) }));
say({ started: String(projector.position) });
projector.start();
const last = await store.lastPosition();
const reached = await projector.waitForPosition(last, 60_000);
say({ done: reached, position: String(projector.position) });
await projector.stop();
await store.close();
