import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import type { Ledger } from '../../src/application/create-ledger.js';
import { sessionStreamName } from '../../src/events/index.js';
import { openSqliteEventStore } from '../../src/store/sqlite/index.js';
import { LEGACY_HEADER, writeLegacyCsv, writeLegacySqlite, type GoodRow, type LegacyTestRow } from '../support/legacy-table.js';
import { runInProcess } from '../support/cli-in-process.js';
import { runLedger } from '../support/ledger-process.js';
import { withProjectedLedger } from '../support/audited-ledger.js';

// `ledger import-legacy` as a real process over real SQLite files. The children append with
// LEDGER_SQLITE_SYNCHRONOUS=NORMAL: thousands of appends synced one by one (FULL) would spend the
// test's time on fsync, which says nothing about the import.

const dir = mkdtempSync(join(tmpdir(), 'ledger-import-legacy-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const PROVIDERS = ['gemini', 'codex', 'claude-code'];
const USAGE = 'usage: ledger import-legacy <file.csv|file.db> [options]';

const ledger = (db: string, args: string[]) => runLedger(['import-legacy', ...args], { LEDGER_DB: db, LEDGER_SQLITE_SYNCHRONOUS: 'NORMAL' });

async function lastPosition(db: string): Promise<bigint> {
  const store = openSqliteEventStore({ path: db });
  try {
    return await store.lastPosition();
  } finally {
    await store.close();
  }
}

const projected = withProjectedLedger;

interface ReadModelRow {
  status: string;
  error_message: string | null;
  completed_at: string | null;
  created_at: string;
}

/** Every good row's session, through the legacy query on the read model, as the legacy table had it. */
function checkReadModel(t: Test, ledger: Ledger, good: readonly GoodRow[]) {
  const byId = ledger.readModelDb.prepare<[string], ReadModelRow>(
    'select status, error_message, completed_at, created_at from auth_sessions where session_id = ?',
  );
  const wrong: string[] = [];
  for (const row of good) {
    const read = byId.get(row.sessionId);
    const expected = { status: row.status, error_message: row.errorMessage, completed_at: row.completedAt, created_at: row.createdAt };
    if (!read || JSON.stringify({ ...read }) !== JSON.stringify(expected)) wrong.push(`${row.sessionId}: ${JSON.stringify(read)} ≠ ${JSON.stringify(expected)}`);
  }
  t.same(wrong.slice(0, 5), [], `every one of ${good.length} imported rows has its legacy status, error message and times`);
  t.equal(ledger.readModel.countSessions(), good.length, 'and no other session is in the ledger');
}

t.test('a 4,000-row legacy CSV as psql writes it: imported, re-imported, and strictly', async (t) => {
  const csv = join(dir, 'auth_sessions.csv');
  // A broken row every 199: each of the nine kinds of fault twice.
  const generated = writeLegacyCsv(csv, 4000, { brokenEvery: 199 });
  const { good, broken, imported } = generated;
  t.equal(good.length + broken.length + generated.exactDuplicates, 4000);
  const db = join(dir, 'big', 'ledger.db');
  const expectedSkips = broken.map((row) => row.line);

  const first = await ledger(db, [csv]);
  t.equal(first.code, 1, 'exit 1: rows were skipped');
  const lines = first.stdout.split('\n');
  for (const line of [
    `${csv} (csv): 4000 rows read`,
    `imported: ${good.length}`,
    `  pending: ${imported.pending}`,
    `  completed: ${imported.completed}`,
    `  failed: ${imported.failed}`,
    `  cancelled: ${imported.cancelled}`,
    `already imported: ${generated.exactDuplicates}`,
    `skipped: ${broken.length}`,
  ]) {
    t.ok(lines.includes(line), line);
  }
  t.ok(Object.values(imported).every((count) => count > 800), 'every status is there, many times');
  const named = new Map(
    lines.flatMap((line) => {
      const skipped = /^ {2}line (\d+): (.*)$/.exec(line);
      return skipped ? [[Number(skipped[1]), skipped[2]!] as const] : [];
    }),
  );
  t.same([...named.keys()], expectedSkips, 'each broken row is named by the line it starts on');
  for (const row of broken) t.match(named.get(row.line), row.reason, `line ${row.line}`);
  t.equal(new Set(broken.map((row) => String(row.reason))).size, 6, 'broken rows of every kind');
  t.match(first.stderr, `import-legacy: 4000 rows read from ${csv}`, 'progress goes to stderr, plain lines when it is not a terminal');

  const afterFirst = await lastPosition(db);
  t.equal(afterFirst, BigInt(good.length + good.filter((row) => row.status !== 'pending').length), 'one or two events per imported row');
  await projected(db, async (ledger) => {
    checkReadModel(t, ledger, good);
    for (const row of broken.filter((row) => row.sessionId?.startsWith('broken-'))) {
      t.same(await ledger.store.readStream(sessionStreamName(row.sessionId!)), [], `nothing appended for ${row.sessionId}`);
    }
  });
  const verified = await runLedger(['verify', '--json'], { LEDGER_DB: db });
  t.equal(verified.code, 0, 'verify is clean afterwards: every chain holds, and the read model is the fold of the imported log');
  t.match(JSON.parse(verified.stdout), { checked: good.length, differences: [], chainBreaks: [], clean: true });

  const second = await ledger(db, [csv, '--json']);
  t.equal(second.code, 1, 'the broken rows are still broken');
  t.same(JSON.parse(second.stdout), {
    file: csv,
    format: 'csv',
    rows: 4000,
    imported: { pending: 0, completed: 0, failed: 0, cancelled: 0 },
    alreadyImported: good.length + generated.exactDuplicates,
    skipped: broken.map((row) => ({ line: row.line, sessionId: row.sessionId, reason: named.get(row.line) })),
    stoppedAtFirstSkip: false,
  });
  t.equal(await lastPosition(db), afterFirst, 'a second import appends nothing');

  const strictDb = join(dir, 'strict', 'ledger.db');
  const strict = await ledger(strictDb, [csv, '--strict', '--json']);
  t.equal(strict.code, 1);
  const before = good.filter((row) => Number(row.sessionId.slice('legacy-'.length)) < Number(broken[0]!.sessionId!.slice('broken-'.length)));
  const answer = JSON.parse(strict.stdout) as { rows: number; imported: Record<string, number>; skipped: unknown[]; stoppedAtFirstSkip: boolean };
  t.match(answer, { rows: before.length + 1, alreadyImported: 0, stoppedAtFirstSkip: true });
  t.same(answer.skipped, [{ line: broken[0]!.line, sessionId: broken[0]!.sessionId, reason: named.get(broken[0]!.line) }]);
  t.equal(Object.values(answer.imported).reduce((sum, count) => sum + count, 0), before.length);
  t.equal(
    await lastPosition(strictDb),
    BigInt(before.length + before.filter((row) => row.status !== 'pending').length),
    'only the rows before the first broken one were appended',
  );
  await projected(strictDb, (ledger) => checkReadModel(t, ledger, before));
});

const at = (minute: number) => `2024-05-0${1 + (minute % 3)} 10:${String(minute).padStart(2, '0')}:00.5+00`;

function sqliteRows(): LegacyTestRow[] {
  const rows: LegacyTestRow[] = [];
  const statuses = ['pending', 'completed', 'failed', 'cancelled'];
  for (let i = 0; i < 12; i++) {
    const status = statuses[i % 4]!;
    rows.push({
      session_id: `sqlite-${i}`,
      user_id: `user-${i}`,
      provider: PROVIDERS[i % 3]!,
      browser_vm_id: `vm-${i}`,
      status,
      completed_at: status === 'completed' && i > 4 ? at(i + 1) : null,
      error_message: status === 'failed' ? (i === 2 ? null : `refused, "${i}"\nby the provider`) : null,
      created_at: at(i),
      updated_at: `2024-05-0${1 + (i % 3)}T10:${String(i + 2).padStart(2, '0')}:00Z`,
    });
  }
  return rows;
}

const isoOf = (text: string) => new Date(text.replace(' ', 'T').replace('+00', 'Z')).toISOString();

t.test('a SQLite file holding the legacy table', async (t) => {
  const legacy = join(dir, 'legacy.db');
  const rows = sqliteRows();
  writeLegacySqlite(legacy, rows);
  const db = join(dir, 'from-sqlite', 'ledger.db');

  const first = await ledger(db, [legacy, '--json']);
  t.equal(first.code, 0, first.stderr);
  t.same(JSON.parse(first.stdout), {
    file: legacy,
    format: 'sqlite',
    rows: 12,
    imported: { pending: 3, completed: 3, failed: 3, cancelled: 3 },
    alreadyImported: 0,
    skipped: [],
    stoppedAtFirstSkip: false,
  });
  const good: GoodRow[] = rows.map((row) => ({
    sessionId: row.session_id!,
    status: row.status as GoodRow['status'],
    createdAt: isoOf(row.created_at!),
    completedAt: row.status === 'completed' ? (row.completed_at === null ? new Date(row.updated_at!).toISOString() : isoOf(row.completed_at)) : null,
    errorMessage: row.status === 'failed' ? (row.error_message ?? 'failed (the legacy row has no error message)') : null,
  }));
  await projected(db, (ledger) => checkReadModel(t, ledger, good));
  const position = await lastPosition(db);

  const again = await ledger(db, [legacy, '--strict']);
  t.equal(again.code, 0, 'every row already there: exit 0');
  t.match(again.stdout, /^imported: 0$/m);
  t.match(again.stdout, /^already imported: 12$/m);
  t.match(again.stdout, /^skipped: 0$/m);
  t.equal(await lastPosition(db), position, 'nothing appended');

  const file = new Database(legacy);
  file.prepare("insert into auth_sessions (session_id, user_id, provider, browser_vm_id, status, created_at) values ('sqlite-x', 'u', 'gemini', 'vm', 'lost', '2024-05-01 10:00:00+00')").run();
  file.prepare("insert into auth_sessions (session_id, user_id, provider, browser_vm_id, status, created_at) values ('sqlite-y', 'u', 'gemini', 'vm', 'pending', 1714557600)").run();
  file.prepare("insert into auth_sessions (session_id, user_id, provider, browser_vm_id, status, created_at) values ('sqlite-z', 'u', 'gemini', 'vm', 'pending', '2024-05-01 10:00:00')").run();
  file.prepare("insert into auth_sessions (session_id, user_id, provider, browser_vm_id, status, created_at) values ('sqlite-b', 'u', 'gemini', x'00ff', 'pending', '2024-05-01 10:00:00')").run();
  file.close();
  const third = await ledger(db, [legacy]);
  t.equal(third.code, 1);
  t.match(third.stdout, /^ {2}row 13: unknown status "lost"/m, 'a SQLite row is named by its rowid');
  t.match(third.stdout, /^ {2}row 14: created_at "1714557600" is not a timestamp/m);
  t.match(third.stdout, /^ {2}row 16: browser_vm_id holds binary data, not text$/m);
  t.match(third.stdout, /^ {2}pending: 1$/m, 'a timestamp without an offset is UTC');
  t.match(third.stdout, /^already imported: 12$/m);
});

t.test('CSV oddities: a byte order mark, CRLF line ends, line breaks in values, a quote out of place', async (t) => {
  const header = '\ufeffsession_id,user_id,provider,browser_vm_id,status,completed_at,error_message,created_at,updated_at';
  const csv = join(dir, 'odd.csv');
  writeFileSync(
    csv,
    [
      header,
      'odd-1,u,gemini,vm,failed,,"two\r\nlines, ""quoted""",2024-03-01 00:00:00+00,2024-03-01 00:01:00+00',
      '',
      'odd-2,u,gemini,vm,bogus,,,2024-03-01 00:00:00+00,2024-03-01 00:01:00+00',
      'odd-3,u,gemini,vm,pending,,"x"y,2024-03-01 00:00:00+00,2024-03-01 00:01:00+00',
      'odd-4,u,gemini,vm,pending,,,2024-03-01 00:00:00+00,2024-03-01 00:01:00+00',
      '',
    ].join('\r\n'),
  );
  const db = join(dir, 'odd', 'ledger.db');
  const run = await ledger(db, [csv]);
  t.equal(run.code, 1);
  t.same(run.stdout.split('\n'), [
    `${csv} (csv): 3 rows read`,
    'imported: 1',
    '  pending: 0',
    '  completed: 0',
    '  failed: 1',
    '  cancelled: 0',
    'already imported: 0',
    'skipped: 2',
    '  line 5: unknown status "bogus" (expected pending, completed, failed, cancelled)',
    '  line 6: the CSV cannot be parsed from this row on (Invalid Closing Quote: got "y" instead of delimiter, record delimiter, trimable character (if activated) or comment); nothing after it is read',
    '',
  ]);
  await projected(db, (ledger) => {
    t.equal(ledger.readModel.session('odd-1')?.errorMessage, 'two\r\nlines, "quoted"', 'the message as it was, line break and quotes');
    t.equal(ledger.readModel.session('odd-4'), null, 'nothing after a syntax error is read');
  });
});

t.test('usage errors exit 2 and touch no ledger', async (t) => {
  const noColumn = join(dir, 'no-column.csv');
  writeFileSync(noColumn, 'session_id,user_id,provider,browser_vm_id,status,completed_at,created_at\ns,u,gemini,vm,pending,,2024-03-01 00:00:00+00\n');
  const noColumnDb = join(dir, 'no-column.db');
  const table = new Database(noColumnDb);
  table.exec('create table auth_sessions (session_id text, user_id text, provider text, browser_vm_id text, status text, completed_at text, error_message text, created_at text)');
  table.close();

  const db = join(dir, 'untouched', 'ledger.db');
  const cases: [string[], string | RegExp][] = [
    [[], 'missing <file.csv|file.db>'],
    [[noColumn, '--format', 'xml'], 'unknown format "xml": csv or sqlite'],
    [[noColumn], `${noColumn} has no columns error_message, updated_at`],
    [[noColumnDb], `${noColumnDb} has no column updated_at`],
  ];
  // The first as a real process; the rest through the same dispatcher in this process.
  const runs = await Promise.all(
    cases.map(([args], i) => (i === 0 ? ledger(db, args) : runInProcess(['import-legacy', ...args], { LEDGER_DB: db }))),
  );
  for (const [i, [args, message]] of cases.entries()) {
    const run = runs[i]!;
    t.equal(run.code, 2, args.join(' '));
    t.match(run.stderr, message);
    t.match(run.stderr, USAGE);
    t.equal(run.stdout, '');
  }
  t.notOk(existsSync(db), 'no ledger was opened');
});

t.test('more usage errors, through the command in this process', async (t) => {
  const noTable = join(dir, 'no-table.sqlite');
  const other = new Database(noTable);
  other.exec('create table sessions (id text)');
  other.close();
  const text = join(dir, 'legacy.txt');
  writeFileSync(text, 'session_id\n');
  const empty = join(dir, 'empty.csv');
  writeFileSync(empty, '');
  const db = join(dir, 'in-process', 'ledger.db');
  mkdirSync(dirname(db), { recursive: true });
  writeFileSync(db, '');

  const cases: [string[], string | RegExp][] = [
    [[text, text], `unexpected arguments: ${text}`],
    [[text, '--frob'], "Unknown option '--frob'"],
    [[join(dir, 'nowhere.csv')], `no such file: ${join(dir, 'nowhere.csv')}`],
    [[text], `cannot tell the format of ${text} from its name: add --format csv or --format sqlite`],
    [[text, '--format', 'csv'], `${text} has no columns user_id, provider, browser_vm_id`],
    [[empty], `${empty} is empty: a CSV with a header line is expected`],
    [[dir, '--format', 'csv'], `not a file: ${dir}`],
    [[noTable], /cannot be read as a SQLite file with an auth_sessions table: no such table: auth_sessions/],
    [[text, '--format', 'sqlite'], /cannot be read as a SQLite file with an auth_sessions table: file is not a database/],
    [[db], `${db} is the ledger's own database (LEDGER_DB), not a legacy table`],
  ];
  for (const [args, message] of cases) {
    const { code, out, err } = await runInProcess(['import-legacy', ...args], { LEDGER_DB: db });
    t.equal(code, 2, args.join(' '));
    t.match(err.join('\n'), message);
    t.match(err.join('\n'), USAGE);
    t.same(out, []);
  }
});

t.test('--strict stops at the first skipped row, in this process', async (t) => {
  const csv = join(dir, 'strict.csv');
  const row = (id: string, status: string) => `${id},u,gemini,vm,${status},,,2024-03-01 00:00:00+00,2024-03-01 00:01:00+00`;
  writeFileSync(csv, [LEGACY_HEADER.join(','), row('st-1', 'completed'), row('st-2', 'done'), row('st-3', 'pending'), ''].join('\n'));
  const db = join(dir, 'strict-in-process', 'ledger.db');
  const progress: string[] = [];
  const { code, out, err } = await runInProcess(
    ['import-legacy', csv, '--strict'],
    { LEDGER_DB: db, LEDGER_SQLITE_SYNCHRONOUS: 'NORMAL' },
    {
      progress: (label, total) => {
        progress.push(`${label} of ${total}`);
        return { update: (done) => void progress.push(String(done)), stop: (last) => void progress.push(last) };
      },
    },
  );
  t.same(err, []);
  t.equal(code, 1);
  t.same(out.slice(-3), [
    'skipped: 1',
    '  line 3: unknown status "done" (expected pending, completed, failed, cancelled)',
    'stopped at the first skipped row (--strict): nothing was appended for it or for any row after it',
  ]);
  t.same(out.slice(0, 3), [`${csv} (csv): 2 rows read`, 'imported: 1', '  pending: 0']);
  t.equal(progress[0], `import-legacy strict.csv of ${readFileSync(csv).length}`, 'progress counts the bytes of a CSV');
  t.equal(progress.at(-1), `import-legacy: 2 rows read from ${csv}`);
  t.equal(await lastPosition(db), 2n, 'the completed row only');
});

t.test('a session another writer started is not overwritten, in this process', async (t) => {
  const db = join(dir, 'other-writer', 'ledger.db');
  const store = openSqliteEventStore({ path: db });
  await store.append(sessionStreamName('live-1'), [
    {
      type: 'SessionStarted',
      eventId: randomUUID(),
      data: { sessionId: 'live-1', userId: 'u', provider: 'gemini', browserVmId: 'vm', expiresAt: '2024-03-01T00:15:00.000Z' },
      metadata: { actor: { role: 'controller', sub: 'vm-manager' }, recordedAt: '2024-03-01T00:00:00.000Z' },
    },
  ]);
  await store.close();
  const csv = join(dir, 'other-writer.csv');
  writeFileSync(csv, `${LEGACY_HEADER.join(',')}\nlive-1,u,gemini,vm,completed,,,2024-03-01 00:00:00+00,2024-03-01 00:01:00+00\n`);
  const { code, out, err } = await runInProcess(['import-legacy', csv, '--json'], { LEDGER_DB: db });
  t.same(err, []);
  t.equal(code, 1);
  t.match(JSON.parse(out[0]!), {
    rows: 1,
    skipped: [{ line: 2, sessionId: 'live-1', reason: 'session live-1 is already in the ledger, started by another writer than import-legacy' }],
  });
  t.equal(await lastPosition(db), 1n, 'nothing appended');
});
