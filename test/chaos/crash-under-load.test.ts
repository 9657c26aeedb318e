/**
 * Crash under load: every acknowledged event survives a SIGKILL, none is recorded twice,
 * revisions stay gapless, `ledger verify` stays clean, and each session ends with the status
 * the truth table gives its acknowledged facts. CHAOS_ROUNDS rounds (3 by default;
 * `npm run test:chaos` runs 20), each over a fresh file; CHAOS_SEED replays a run.
 */
import t from 'tap';
import { bundleLedger } from '../support/ledger-bundle.js';
import { seedFrom } from '../support/seeded-random.js';
import { crashUnderLoad, type RoundReport } from './crash-under-load.js';

const ROUNDS = Number(process.env.CHAOS_ROUNDS ?? 3);
const SESSIONS = 40;
const CONCURRENCY = 8;
const KILLS = 2;

const seed = seedFrom('CHAOS_SEED');
t.comment(`crash under load: ${ROUNDS} rounds, seed ${seed} (CHAOS_SEED=${seed} replays the choices)`);
const bundle = await bundleLedger();
t.teardown(bundle.remove);

const totals = { acknowledged: 0, recovered: 0, refused: 0, kills: 0, answersLost: 0, retries: 0, lost: 0, doubled: 0 };

for (let round = 1; round <= ROUNDS; round++) {
  t.test(`round ${round}: ${SESSIONS} sessions, ${CONCURRENCY} writers, ${KILLS} SIGKILLs`, async (t) => {
    const report: RoundReport = await crashUnderLoad({ main: bundle.files.main!, seed: seed + round, sessions: SESSIONS, concurrency: CONCURRENCY, kills: KILLS });
    const { findings } = report;
    t.equal(report.kills, KILLS, 'the server was killed as planned, mid-load');
    t.ok(report.acknowledged >= 2 * SESSIONS, `writes were acknowledged (${report.acknowledged})`);
    t.ok(report.recovered > 0, `retries of writes that had landed were answered (${report.recovered})`);
    t.same(findings.lost, [], 'every acknowledged event is in the log');
    t.same(findings.doubled, [], 'no event id twice');
    t.same(findings.misplaced, [], 'each where its acknowledgement said');
    t.same(findings.unexplained, [], 'and nothing else is in the log');
    t.same(findings.gaps, [], "each stream's revisions are gapless");
    t.same(findings.verify, [], '`ledger verify` is clean: the read model is the fold of the log, every chain holds');
    t.same(findings.statusMismatches, [], "each session's status is the truth table's for its acknowledged facts");
    t.same(findings.unexpectedAnswers, [], 'every answer is one a retry explains');
    t.same(findings.serverErrors, [], 'no 5xx but 503, and no error logged');
    t.same(findings.shutdown, [], 'the last server stopped cleanly');
    t.comment(
      `round ${round} (seed ${report.seed}): ${report.acknowledged} acknowledged (${report.recovered} by a retry of a send that had landed), ` +
        `${report.refused} cancels refused, ${report.kills} kills, ${report.answersLost} answers lost, ${report.retries} retries`,
    );
    totals.acknowledged += report.acknowledged;
    totals.recovered += report.recovered;
    totals.refused += report.refused;
    totals.kills += report.kills;
    totals.answersLost += report.answersLost;
    totals.retries += report.retries;
    totals.lost += findings.lost.length;
    totals.doubled += findings.doubled.length + findings.unexplained.length;
  });
}

t.teardown(() => {
  t.comment(
    `crash under load, totals over ${ROUNDS} rounds (seed ${seed}): acknowledged ${totals.acknowledged} (recovered by retry ${totals.recovered}), ` +
      `refused ${totals.refused}, kills ${totals.kills}, answers lost ${totals.answersLost}, retries ${totals.retries}, lost ${totals.lost}, doubled ${totals.doubled}`,
  );
});
