import { derivedEventId } from '../events/index.js';
import type { Caller } from './caller.js';
import type { CommandHandler, HandledCommand } from './command-handler.js';

/**
 * The master controller's `complete` call: records `CredentialsStored` with the session's own
 * provider (it never sets a status). Legacy callers send no idempotency key: the completion
 * has one derived from the session, so a retried call is recognised and never recorded twice.
 */
export function completeLegacySession(
  deps: { commands: CommandHandler },
  sessionId: string,
  { credentialRef }: { credentialRef?: string | undefined },
  caller: Caller,
): Promise<HandledCommand> {
  return deps.commands(
    { type: 'CompleteLegacySession', data: { sessionId, credentialRef: credentialRef ?? `legacy:${sessionId}` } },
    { eventId: derivedEventId(`legacy-complete/${sessionId}`), actor: caller.actor },
    caller.maySee,
  );
}
