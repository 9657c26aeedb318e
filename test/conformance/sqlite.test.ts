import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { categoryOf, ledgerEventCodec } from '../../src/events/index.js';
import { openSqliteEventStore } from '../../src/store/sqlite/index.js';
import { eventStoreConformance } from './event-store-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-conformance-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, 'events.db');

// Every open() is another connection to one file, as several ledger processes would have.
eventStoreConformance({
  name: 'sqlite',
  open: async () => openSqliteEventStore({ path }),
  // The rows a ledger wrote before the chain: the same columns, and no hash.
  async appendBeforeTheChain(streamName, events) {
    const db = new Database(path);
    try {
      const insert = db.prepare('insert into events (stream_name, category, revision, event_id, type, data, metadata) values (?, ?, ?, ?, ?, ?, ?)');
      db.transaction(() => {
        for (const [revision, event] of events.entries()) {
          const prepared = ledgerEventCodec.prepare(event);
          insert.run(streamName, categoryOf(streamName), revision, prepared.eventId, prepared.type, prepared.dataJson, prepared.metadataJson);
        }
      })();
    } finally {
      db.close();
    }
  },
});
