import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openSqliteEventStore } from '../../src/store/sqlite/index.js';
import { eventStoreConformance } from './event-store-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-conformance-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

// Every open() is another connection to one file, as several ledger processes would have.
eventStoreConformance({
  name: 'sqlite',
  open: async () => openSqliteEventStore({ path: join(dir, 'events.db') }),
});
