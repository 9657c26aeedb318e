import { z } from 'zod';
import { asOfPoint, isAtOrBefore } from '../../projections/index.js';
import { storeChoiceOf } from '../application/create-ledger.js';
import { openEventLog } from '../application/open-store.js';
import { Decimal, SessionId, Timestamp } from '../contract/index.js';
import { sessionStreamName } from '../events/index.js';
import { defineCommand, STORE_ENVIRONMENT, UsageError } from './command.js';
import { timelineLines, timelineOf } from './session-timeline.js';

const Arguments = z.object({
  sessionId: SessionId,
  asOf: z.union([Decimal, Timestamp]).optional(),
});

/** An auditor's view of one session: every fact (up to a point, with `--as-of`), who recorded it, and the status the fold gives after each. */
export const history = defineCommand({
  name: 'history',
  summary: "print a session's events, who recorded each, and the status after each (as of a position or a time)",
  positionals: { usage: '<sessionId>', min: 1, max: 1 },
  options: {
    json: { type: 'boolean', description: 'print one JSON document instead of lines' },
    'as-of': { type: 'string', value: '<position|ISO time>', description: 'show the session as it was at a position of the log, or at a time' },
  },
  environment: STORE_ENVIRONMENT,
  examples: ['ledger history 0b6c5d3e-5f1a-4c5e-9d43-2b1f0e7a9c10', 'ledger history 0b6c5d3e-5f1a-4c5e-9d43-2b1f0e7a9c10 --as-of 2026-12-01T09:30:00Z --json'],
  async run({ values, positionals }, { config, out, err }) {
    const checked = Arguments.safeParse({ sessionId: positionals[0], asOf: values['as-of'] });
    if (!checked.success) throw new UsageError(z.prettifyError(checked.error));
    const { sessionId, asOf } = checked.data;
    const store = await openEventLog(storeChoiceOf(config, 'read-only'));
    try {
      const stream = await store.readStream(sessionStreamName(sessionId));
      if (stream.length === 0) {
        err(`no session ${sessionId} in ${config.LEDGER_STORE === 'sqlite' ? config.LEDGER_DB : 'the event store'}`);
        return 1;
      }
      const events = asOf === undefined ? stream : stream.filter(isAtOrBefore(asOfPoint(asOf)));
      const timeline = timelineOf(events);
      if (values.json) {
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
      await store.close();
    }
  },
});
