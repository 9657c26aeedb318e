// Mutation testing of what decides the truth: `npm run test:mutation`. Stryker changes one
// operator, condition or value at a time in the code below and runs the tests that reach it;
// a change no test notices (a surviving mutant) is a rule no test holds.

/** What decides the truth: the folds, decide(), who may do what, the store's rules, the chain, verify. */
const mutate = [
  'projections/**/*.ts',
  'src/decide/**/*.ts',
  'src/http/authorization.ts',
  // The port's idempotency rule and its expected-revision check, shared by both adapters.
  'src/store/idempotency.ts',
  'src/store/requests.ts',
  'src/store/hash-chain.ts',
  'src/audit/verify.ts',
  // What each adapter adds around the shared rules, and no more: the rest of an adapter
  // (reads, subscriptions, connections) is the conformance suite's, and would triple the run.
  // SQLite: the head's hash, the append's checks (idempotency, expected revision, chain), each in
  // the savepoint of its batch's transaction, and the group commit that gathers and answers them.
  'src/store/sqlite/sqlite-event-store.ts:153-245',
  'src/store/sqlite/group-commit.ts',
  // EventStoreDB: the remembered ids (the other-stream check), the stored hash, the
  // read-decide-write round, and the retries around it.
  'src/store/eventstoredb/eventstoredb-event-store.ts:125-128',
  'src/store/eventstoredb/eventstoredb-event-store.ts:141-153',
  'src/store/eventstoredb/eventstoredb-event-store.ts:255-302',
];

/**
 * The test files that exercise that code, fastest first: Stryker runs a mutant's covering
 * files in this order and stops at the first that fails. Not the browser, chaos or CLI tests:
 * they reach this code only through the files below, at many times their cost.
 */
const testFiles = [
  'test/unit/authorization.test.js',
  'test/unit/decide.test.js',
  'test/unit/idempotency.test.js',
  'test/unit/fold-truth-table.test.js',
  'test/unit/fold-readings.test.js',
  'test/unit/verify-export.test.js',
  'test/integration/verify-report.test.js',
  'test/conformance/sqlite.test.js',
  'test/unit/group-commit.test.js',
  'test/integration/sqlite-group-commit.test.js',
  'test/integration/command-handler.test.js',
  'test/integration/http-bad-input.test.js',
  'test/unit/fold-properties.test.js',
  'test/integration/audit.test.js',
  'test/conformance/eventstoredb.test.js',
  'test/integration/eventstoredb-emulator.test.js',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate,
  testRunner: 'tap',
  // Each test file runs in a process of its own, for every mutant: compiled once beforehand
  // (tsconfig.mutation.json puts each .js beside its .ts in Stryker's sandbox) it costs a
  // fifth of what ts-node's transpile in every process would.
  buildCommand: 'tsc -p tsconfig.mutation.json --noCheck',
  tap: { testFiles, nodeArgs: ['-r', '{{hookFile}}', '{{testFile}}'] },
  // Which test files reach each mutant, so only those run for it.
  coverageAnalysis: 'perTest',
  // The sandbox holds only what the build and the tests read.
  ignorePatterns: ['dist', 'coverage', '.tap', 'data', 'reports', 'console', 'examples', 'packages', 'bench', '*.db*'],
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html'],
  clearTextReporter: { allowColor: false, reportTests: false, reportScoreTable: true, reportMutants: true },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  thresholds: { high: 99, low: 97, break: 97 },
  tempDirName: '.stryker-tmp',
};
