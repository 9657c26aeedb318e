import { z } from 'zod';
import { asOfPoint, isAtOrBefore } from '../../projections/index.js';
import { createLedger, ledgerOptionsOf } from '../application/create-ledger.js';
import { Decimal, SessionId, Timestamp } from '../contract/index.js';
import { sessionStreamName } from '../events/index.js';
import { parseArguments } from './arguments.js';
import type { CliCommand } from './command.js';
import { timelineLines, timelineOf } from './session-timeline.js';

const usage = 'ledger history <sessionId> [--json] [--as-of <position|ISO time>]';

const Arguments = z.object({
  sessionId: SessionId,
  asOf: z.union([Decimal, Timestamp]).optional(),
});

/** An auditor's view of one session: every fact (up to a point, with `--as-of`), who recorded it, and the status the fold gives after each. */
export const history: CliCommand = {
  name: 'history',
  summary: "print a session's events, who recorded each, and the status after each (as of a position or a time)",
  usage,
  async run(args, { config, out, err, clock }) {
    const parsed = parseArguments(args, { json: { type: 'boolean' }, 'as-of': { type: 'string' } }, usage, err);
    if (!parsed) return 2;
    const checked = Arguments.safeParse({ sessionId: parsed.positionals[0], asOf: parsed.values['as-of'] });
    if (!checked.success || parsed.positionals.length !== 1) {
      err(`${checked.success ? 'one session id, please' : z.prettifyError(checked.error)}\nusage: ${usage}`);
      return 2;
    }
    const { sessionId, asOf } = checked.data;
    const ledger = await createLedger(ledgerOptionsOf(config, clock));
    try {
      const stream = await ledger.store.readStream(sessionStreamName(sessionId));
      if (stream.length === 0) {
        err(`no session ${sessionId} in ${config.LEDGER_STORE === 'sqlite' ? config.LEDGER_DB : 'the event store'}`);
        return 1;
      }
      const events = asOf === undefined ? stream : stream.filter(isAtOrBefore(asOfPoint(asOf)));
      const timeline = timelineOf(events);
      if (parsed.values.json) {
        const { state } = timeline;
        out(
          JSON.stringify(
            {
              sessionId,
              asOf: asOf ?? null,
              status: events.length === 0 ? null : state.status,
              completedAt: state.completedAt,
              events: timeline.entries,
              anomalies: state.anomalies.map((anomaly) => ({ ...anomaly, position: String(anomaly.position) })),
            },
            null,
            2,
          ),
        );
        return 0;
      }
      out(`session ${sessionId}${asOf === undefined ? '' : ` as of ${asOf}`}`);
      if (events.length === 0) out('  nothing recorded yet then');
      else for (const line of timelineLines(timeline)) out(line);
      return 0;
    } finally {
      await ledger.close();
    }
  },
};
