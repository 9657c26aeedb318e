import { Webhook } from 'standardwebhooks';
import { createLedger, ledgerOptionsOf } from '../application/create-ledger.js';
import { SESSION_CATEGORY } from '../events/index.js';
import { openDeliveryState, type DeadLetter } from '../reactions/delivery-state.js';
import { postMessage } from '../reactions/post-message.js';
import { loadSubscriptions } from '../reactions/subscriptions.js';
import { defineCommand, STORE_ENVIRONMENT, UsageError } from './command.js';

const USES = 'ledger webhooks list | retry <webhook-id> | replay <subscription-id> --from <position>';

const deadLetterJson = (letter: DeadLetter) => ({
  webhookId: letter.webhookId,
  subscription: letter.subscriptionId,
  position: String(letter.position),
  attempts: letter.attempts,
  lastError: letter.lastError,
  failedAt: letter.failedAt,
});

/**
 * The operator's hands on webhook delivery, beside a running `serve` (another process on the
 * same read-model file: SQLite serialises the writes): what each subscription has passed and
 * what it gave up on; a dead letter posted again; a subscription sent back to a position.
 */
export const webhooks = defineCommand({
  name: 'webhooks',
  summary: 'list the webhook subscriptions and dead letters; retry <webhook-id> posts a dead letter again; replay <subscription-id> --from <position>',
  positionals: { usage: '<list|retry|replay> [<webhook-id>|<subscription-id>]', min: 1, max: 2 },
  options: {
    json: { type: 'boolean', description: 'list: print one JSON document instead of lines' },
    from: { type: 'string', value: '<position>', description: 'replay: deliver again every wanted change after this position of the log' },
  },
  environment: [...STORE_ENVIRONMENT, 'LEDGER_WEBHOOKS_FILE', 'LEDGER_PROVIDERS'],
  examples: ['ledger webhooks list', 'ledger webhooks retry msg_2hV0cQk1mNf3Yp8sXw6tLr4bDg9eJa5u', 'ledger webhooks replay ops --from 1200', 'ledger webhooks list --json'],
  async run({ values, positionals }, { config, out, err, clock }) {
    const [use, target] = positionals as [string, string | undefined];
    if (use !== 'list' && use !== 'retry' && use !== 'replay') throw new UsageError(`unknown use ${JSON.stringify(use)}: ${USES}`);
    if (use === 'list' ? target !== undefined : target === undefined) throw new UsageError(use === 'list' ? 'list takes no argument' : `missing the ${use === 'retry' ? '<webhook-id>' : '<subscription-id>'}`);
    if ((values.from !== undefined) !== (use === 'replay')) throw new UsageError(use === 'replay' ? 'replay needs --from <position>' : '--from is for replay');
    if (values.json && use !== 'list') throw new UsageError('--json is for list');
    const from = values.from === undefined ? null : /^\d+$/.test(values.from) ? BigInt(values.from) : null;
    if (use === 'replay' && from === null) throw new UsageError(`--from takes a position of the log (0 or more), not ${JSON.stringify(values.from)}`);

    const subscriptions = loadSubscriptions(config.LEDGER_WEBHOOKS_FILE, config.LEDGER_PROVIDERS);
    const ledger = await createLedger({ ...ledgerOptionsOf(config, clock, undefined, use === 'list' ? 'read-only' : 'existing'), webhooks: { subscriptions } });
    try {
      const state = openDeliveryState(ledger.readModelDb);
      if (use === 'list') {
        // The ledger is not started: each consumer's checkpoint is the stored one.
        const list = await ledger.webhooks.list();
        const letters = state.deadLetters();
        if (values.json) {
          const listed = list.map((webhook) => ({ ...webhook, checkpoint: String(webhook.checkpoint), lag: String(webhook.lag) }));
          out(JSON.stringify({ webhooks: listed, deadLetters: letters.map(deadLetterJson) }, null, 2));
          return 0;
        }
        if (list.length === 0) out(`no subscriptions${config.LEDGER_WEBHOOKS_FILE === undefined ? ' (LEDGER_WEBHOOKS_FILE is unset)' : ''}`);
        for (const webhook of list) {
          out(`${webhook.id}  ${webhook.url}  checkpoint ${webhook.checkpoint}  lag ${webhook.lag}  dead letters ${webhook.deadLetters}`);
        }
        out(letters.length === 0 ? 'no dead letters' : `dead letters (${letters.length}):`);
        for (const letter of letters) {
          out(`  ${letter.webhookId}  ${letter.subscriptionId}  position ${letter.position}  attempts ${letter.attempts}  at ${letter.failedAt}  last error: ${letter.lastError}`);
        }
        return 0;
      }
      if (use === 'retry') {
        const letter = state.deadLetterOf(target!);
        if (letter === null) {
          err(`no dead letter ${target} (ledger webhooks list shows them)`);
          return 1;
        }
        const subscription = subscriptions.find(({ id }) => id === letter.subscriptionId);
        if (subscription === undefined) {
          err(`its subscription ${letter.subscriptionId} is not in LEDGER_WEBHOOKS_FILE: nowhere to post it, nor a secret to sign it; kept`);
          return 1;
        }
        // The stored body and the same webhook-id, signed anew (a fresh webhook-timestamp) with the subscription's secret as it is now.
        const receiver = { url: subscription.url, signer: new Webhook(subscription.secret), timeoutMs: subscription.timeoutMs };
        const outcome = await postMessage(receiver, { id: letter.webhookId, body: letter.body }, clock(), new AbortController().signal);
        if (!outcome.delivered) {
          err(`${letter.webhookId} not delivered to ${subscription.url}: ${outcome.error}; kept in the dead letters`);
          return 1;
        }
        state.removeDeadLetter(letter.webhookId);
        out(`delivered ${letter.webhookId} to ${subscription.id} (answered ${outcome.status}); removed from the dead letters`);
        return 0;
      }
      if (!subscriptions.some(({ id }) => id === target)) {
        err(`no subscription ${target} in LEDGER_WEBHOOKS_FILE`);
        return 1;
      }
      // Past the head it would skip what comes next, unsent: refused.
      const head = await ledger.store.lastPosition({ category: SESSION_CATEGORY });
      if (from! > head) {
        err(`--from ${from} is past the log's last session event (position ${head}): nothing to replay`);
        return 1;
      }
      state.requestReplay(target!, from!, clock().toISOString());
      out(`subscription ${target} will deliver again every wanted change after position ${from}: a running serve starts within about a second, else the next start does`);
      return 0;
    } finally {
      await ledger.close();
    }
  },
});
