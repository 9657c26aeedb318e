import { SessionId } from '../contract/index.js';
import { sessionStreamName } from '../events/index.js';
import type { CliCommand } from './command.js';
import { createLedger, ledgerOptionsOf } from '../application/create-ledger.js';
import { sessionTimeline } from './session-timeline.js';

/** An auditor's view of one session: every fact, and the status the fold gives after each. */
export const history: CliCommand = {
  name: 'history',
  summary: "print a session's events and the status after each",
  usage: 'ledger history <sessionId>',
  async run(args, { config, out, err, clock }) {
    const sessionId = SessionId.safeParse(args[0]);
    if (!sessionId.success) {
      err(`usage: ${this.usage}`);
      return 2;
    }
    const ledger = createLedger(ledgerOptionsOf(config, clock));
    const { store } = ledger;
    try {
      const events = await store.readStream(sessionStreamName(sessionId.data));
      if (events.length === 0) {
        err(`no session ${sessionId.data} in ${config.LEDGER_DB}`);
        return 1;
      }
      out(`session ${sessionId.data}`);
      for (const line of sessionTimeline(events).lines) out(line);
      return 0;
    } finally {
      await ledger.close();
    }
  },
};
