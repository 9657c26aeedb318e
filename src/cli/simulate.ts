import { randomUUID } from 'node:crypto';
import type { CommandHandler } from '../application/command-handler.js';
import { createLedger, ledgerOptionsOf } from '../application/create-ledger.js';
import { DEFAULT_SESSION_TTL_MS } from '../contract/index.js';
import { DomainError, type SessionCommand } from '../decide/index.js';
import { sessionStreamName, type Actor } from '../events/index.js';
import { defineCommand, STORE_ENVIRONMENT } from './command.js';
import { sessionTimeline } from './session-timeline.js';

const controller: Actor = { role: 'controller', sub: 'vm-manager' };
const agentOf = (sessionId: string): Actor => ({ role: 'agent', sub: `agent-${sessionId}` });
const user: Actor = { role: 'frontend', sub: 'user-simulated' };

/**
 * Plays the OAuth flows the ledger exists for into the embedded store, through the same
 * command handler the HTTP API will use, and prints each session's history.
 */
export const simulate = defineCommand({
  name: 'simulate',
  summary: 'record the OAuth flows (success, VM destroyed first, late credentials, cancel) for each provider and print them',
  options: {},
  environment: [...STORE_ENVIRONMENT, 'LEDGER_PROVIDERS'],
  examples: ['LEDGER_DB="$(mktemp -d)/ledger.db" ledger simulate'],
  async run(_arguments, { config, out, clock }) {
    const ledger = await createLedger(ledgerOptionsOf(config, clock));
    const { store, commands: handle } = ledger;
    try {
      out(`recording into ${config.LEDGER_STORE === 'sqlite' ? config.LEDGER_DB : 'EventStoreDB'}`);
      for (const provider of config.LEDGER_PROVIDERS) {
        for (const flow of flows) {
          const sessionId = `sim-${provider}-${randomUUID().slice(0, 8)}`;
          out('');
          out(`${provider}: ${flow.title} (session ${sessionId})`);
          await flow.play(handle, sessionId, provider, clock, out);
          for (const line of sessionTimeline(await store.readStream(sessionStreamName(sessionId)))) out(line);
        }
      }
      return 0;
    } finally {
      await ledger.close();
    }
  },
});

type Out = (line: string) => void;

interface Flow {
  title: string;
  play(handle: CommandHandler, sessionId: string, provider: string, clock: () => Date, out: Out): Promise<void>;
}

const start = (handle: CommandHandler, sessionId: string, provider: string, clock: () => Date) =>
  handle(
    {
      type: 'StartSession',
      data: {
        sessionId,
        userId: 'user-simulated',
        provider,
        browserVmId: `vm-${sessionId}`,
        expiresAt: new Date(clock().getTime() + DEFAULT_SESSION_TTL_MS).toISOString(),
      },
    },
    { eventId: randomUUID(), actor: controller },
  );

const credentialsStored = (sessionId: string, provider: string): SessionCommand => ({
  type: 'RecordFact',
  data: { fact: { type: 'CredentialsStored', data: { sessionId, provider, credentialRef: `cred-${sessionId}` } } },
});

const vmDestroyed = (sessionId: string): SessionCommand => ({
  type: 'RecordFact',
  data: { fact: { type: 'VmDestroyed', data: { sessionId, vmId: `vm-${sessionId}`, reason: 'VM clean-up' } } },
});

const flows: Flow[] = [
  {
    title: 'credentials stored, then the VM is cleaned up; the agent retries its call',
    async play(handle, sessionId, provider, clock, out) {
      await start(handle, sessionId, provider, clock);
      const agentCall = { eventId: randomUUID(), actor: agentOf(sessionId) };
      await handle(credentialsStored(sessionId, provider), agentCall);
      await handle(vmDestroyed(sessionId), { eventId: randomUUID(), actor: controller });
      const retry = await handle(credentialsStored(sessionId, provider), agentCall);
      out(`  the agent's retried call: already recorded = ${retry.alreadyRecorded}, status ${retry.state.status}`);
    },
  },
  {
    title: 'the VM is destroyed before OAuth completes, then late credentials arrive',
    async play(handle, sessionId, provider, clock) {
      await start(handle, sessionId, provider, clock);
      await handle(vmDestroyed(sessionId), { eventId: randomUUID(), actor: controller });
      await handle(credentialsStored(sessionId, provider), { eventId: randomUUID(), actor: agentOf(sessionId) });
    },
  },
  {
    title: 'the user cancels, then tries to cancel again',
    async play(handle, sessionId, provider, clock, out) {
      await start(handle, sessionId, provider, clock);
      const cancel: SessionCommand = { type: 'CancelSession', data: { sessionId, cancelledBy: user.sub } };
      await handle(cancel, { eventId: randomUUID(), actor: user });
      try {
        await handle(cancel, { eventId: randomUUID(), actor: user });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        out(`  the second cancel is refused: ${error.message}`);
      }
    },
  },
];
