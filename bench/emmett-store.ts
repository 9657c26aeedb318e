// Emmett's SQLite event store (@event-driven-io/emmett-sqlite), opened as its documentation
// shows, on a file. Its durability is the ledger's: it puts the file in WAL mode, and its
// sqlite3 driver's SQLite is built with synchronous FULL as the default in WAL mode
// (SQLITE_DEFAULT_WAL_SYNCHRONOUS=2), which its connections keep; `synchronousOf` reads it back.
import { getSQLiteEventStore } from '@event-driven-io/emmett-sqlite';
import sqlite3 from 'sqlite3';
import type { Login } from './login-event.js';

export interface EmmettAppender {
  append(login: Login): Promise<unknown>;
}

export function openEmmettStore(path: string): EmmettAppender {
  const store = getSQLiteEventStore({ fileName: path });
  return {
    append: ({ streamName, event }) => store.appendToStream(streamName, [{ type: event.type, data: event.data, metadata: event.metadata }]),
  };
}

/** Emmett's table of events and its stream column, to read back what it stored. */
export const EMMETT_MESSAGES = { table: 'emt_messages', streamColumn: 'stream_id' } as const;

/** The `synchronous` level a connection of Emmett's driver gets on the file, in WAL mode (2 is FULL). */
export async function synchronousOf(path: string): Promise<number> {
  const db = new sqlite3.Database(path);
  try {
    return await new Promise<number>((resolve, reject) =>
      db.get('PRAGMA synchronous', (error: Error | null, row: { synchronous: number }) => (error ? reject(error) : resolve(row.synchronous))),
    );
  } finally {
    db.close();
  }
}

/**
 * Runs `measure` with console.log silenced: Emmett logs every failed transaction's error with
 * it (hundreds of lines under concurrency); the bench counts those errors itself.
 */
export async function withoutEmmettLogs<T>(measure: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await measure();
  } finally {
    console.log = log;
  }
}
