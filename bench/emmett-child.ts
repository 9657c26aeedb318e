// The `emmett` child role: Emmett's SQLite store driven in a process of its own, because under
// concurrent appends its sqlite3 connection can be closed under a running statement and the
// native driver take the process down (SIGBUS was seen). Each append is reported the moment it
// is acknowledged, so what was acknowledged before such a crash is still known.
import { readFileSync } from 'node:fs';
import { driveAppends } from './appenders.js';
import { openEmmettStore, withoutEmmettLogs } from './emmett-store.js';
import type { Login } from './login-event.js';

/** The last line an `emmett` child prints, after one `ack <index>` line per acknowledged append. */
export interface EmmettRunEnd {
  attempted: number;
  errors: [string, number][];
  ms: number;
}

/** `emmett <logins file (JSON)> <database file> <appenders> <time budget, ms>` */
export async function emmettChild([loginsFile, path, appenders, budgetMs]: string[]): Promise<void> {
  if (loginsFile === undefined || path === undefined || appenders === undefined || budgetMs === undefined) {
    throw new Error('usage: --child emmett <logins file> <database file> <appenders> <time budget, ms>');
  }
  const logins = JSON.parse(readFileSync(loginsFile, 'utf8')) as Login[];
  const store = openEmmettStore(path);
  const run = await withoutEmmettLogs(() =>
    driveAppends({ to: logins.length, appenders: Number(appenders), budgetMs: Number(budgetMs) }, async (index) => {
      await store.append(logins[index]!);
      // Synchronous on a pipe (Linux): written before the next append can crash the process.
      process.stdout.write(`ack ${index}\n`);
    }),
  );
  const end: EmmettRunEnd = { attempted: run.attempted, errors: [...run.errors], ms: run.ms };
  process.stdout.write(`end ${JSON.stringify(end)}\n`);
  // Its connections may still be closing; what was measured is written.
  process.exit(0);
}
