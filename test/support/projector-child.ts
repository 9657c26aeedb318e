// A separate process running a projector over a ledger file, for tests of crashes that only
// a real process can show: `auth_sessions` (the default) or `session_outcomes` (third argument
// `outcomes`). Prints one JSON line when it starts, one after each committed batch (with the
// checkpoint it reached), and one when it has applied the whole log.
import { openOutcomes } from '../../src/projector/outcomes-read-model.js';
import { createProjector } from '../../src/projector/projector.js';
import { openSqliteEventStore } from '../../src/store/sqlite/index.js';

const [path, batchSize, which] = process.argv.slice(2) as [string, string, string | undefined];
const store = openSqliteEventStore({ path });
const say = (line: object) => console.log(JSON.stringify(line));
const options = { store, batchSize: Number(batchSize), onCommitted: (position: bigint) => say({ position: String(position) }) };
const projector =
  which === 'outcomes' ? createProjector({ ...options, projection: openOutcomes(store.database) }) : createProjector({ ...options, db: store.database });

say({ started: String(projector.position) });
projector.start();
const last = await store.lastPosition();
const reached = await projector.waitForPosition(last, 60_000);
say({ done: reached, position: String(projector.position) });
await projector.stop();
await store.close();
