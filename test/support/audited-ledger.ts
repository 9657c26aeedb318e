/**
 * A ledger file with a story to audit: sessions of every outcome, written through the
 * command handler, and a read model projected to the end of the log.
 */
import { randomUUID } from 'node:crypto';
import { createLedger, type Ledger } from '../../src/application/create-ledger.js';
import type { SessionCommand } from '../../src/decide/index.js';
import type { Actor } from '../../src/events/index.js';

export const PROVIDERS = ['gemini', 'codex', 'claude-code'];
const controller: Actor = { role: 'controller', sub: 'vm-manager' };

/** Opens the ledger on `path`, runs its projector to the end of the log, and hands it over. */
export async function withProjectedLedger<T>(path: string, use: (ledger: Ledger) => Promise<T> | T): Promise<T> {
  const ledger = await createLedger({ store: { kind: 'sqlite', path }, providers: PROVIDERS });
  try {
    ledger.start();
    const last = await ledger.store.lastPosition();
    if (!(await ledger.projector.waitForPosition(last, 30_000))) throw new Error('the projector did not reach the end of the log');
    return await use(ledger);
  } finally {
    await ledger.close();
  }
}

/** The sessions written, by what happened to them. The first three have three events each, for tampering in the middle. */
export type Story = {
  completedThenCleanedUp: string;
  failedThenLate: string;
  cancelled: string;
  failedByTheAgent: string;
  pending: string;
};

/** Writes the story into the ledger on `path`, and projects it. */
export async function writeStory(path: string): Promise<Story> {
  const story: Story = {
    completedThenCleanedUp: `done-${randomUUID().slice(0, 8)}`,
    failedThenLate: `late-${randomUUID().slice(0, 8)}`,
    cancelled: `cancel-${randomUUID().slice(0, 8)}`,
    failedByTheAgent: `failed-${randomUUID().slice(0, 8)}`,
    pending: `wait-${randomUUID().slice(0, 8)}`,
  };
  await withProjectedLedger(path, async ({ commands }) => {
    const record = (command: SessionCommand) => commands(command, { eventId: randomUUID(), actor: controller });
    for (const sessionId of Object.values<string>(story)) {
      await record({
        type: 'StartSession',
        data: { sessionId, userId: 'user-1', provider: 'gemini', browserVmId: `vm-${sessionId}`, expiresAt: new Date(Date.now() + 3_600_000).toISOString() },
      });
    }
    const credentials = (sessionId: string): SessionCommand => ({
      type: 'RecordFact',
      data: { fact: { type: 'CredentialsStored', data: { sessionId, provider: 'gemini', credentialRef: `cred-${sessionId}` } } },
    });
    const destroyed = (sessionId: string): SessionCommand => ({
      type: 'RecordFact',
      data: { fact: { type: 'VmDestroyed', data: { sessionId, vmId: `vm-${sessionId}`, reason: 'clean-up' } } },
    });
    await record(credentials(story.completedThenCleanedUp));
    await record(destroyed(story.completedThenCleanedUp));
    await record(destroyed(story.failedThenLate));
    await record(credentials(story.failedThenLate));
    await record({ type: 'CancelSession', data: { sessionId: story.cancelled, cancelledBy: 'user-1' } });
    await record(destroyed(story.cancelled));
    await record({
      type: 'RecordFact',
      data: { fact: { type: 'SessionFailed', data: { sessionId: story.failedByTheAgent, reason: 'consentDenied', errorMessage: 'The user denied consent' } } },
    });
  });
  return story;
}
