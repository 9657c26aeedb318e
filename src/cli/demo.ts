import { randomUUID } from 'node:crypto';
import { createLedgerClient, isLedgerProblem, LedgerClientError, LedgerNetworkError, type LedgerClient, type WatchUpdate } from '../client/index.js';
import { createTokenSigner } from '../http/tokens.js';
import { defineCommand } from './command.js';
import { jwtSecretOf } from './jwt-secret.js';

/** How long the demo waits for a status change to come over SSE before it calls the run a failure. */
const SSE_WAIT_MS = 10_000;
/** The demo's own tokens live as long as a run could (or as the cap allows, if it is shorter). */
const TOKEN_TTL_MS = 60 * 60_000;

/** A failure of the demo's own expectations (the ledger answered, but not as the flow needs). */
class DemoError extends Error {
  override readonly name = 'DemoError';
}

type Out = (line: string) => void;

/** One line of a timeline: who acted (or `sse @position` for what the watch told), and what. */
const line = (who: string, what: string) => `  ${who.padEnd(12)}${what}`;

function describe(update: WatchUpdate): string {
  const { status, errorMessage, completedAt, anomalies } = update.session;
  const details = [
    completedAt && status === 'completed' ? `completed at ${completedAt}` : null,
    errorMessage,
    ...anomalies.map((anomaly) => `anomaly ${anomaly.kind}`),
  ].filter(Boolean);
  return `${status}${details.length ? ` (${details.join('; ')})` : ''}`;
}

/**
 * A watch running beside a flow: prints each status the moment it arrives, and lets the flow
 * wait for a status before its next step, so the printed timeline is in the order it happened.
 */
function follow(client: LedgerClient, sessionId: string, out: Out) {
  const stop = new AbortController();
  const seen: WatchUpdate[] = [];
  let wake = () => {};
  let finished = false;
  let failure: Error | undefined;
  const running = (async () => {
    try {
      for await (const update of client.watch(sessionId, { signal: stop.signal })) {
        seen.push(update);
        out(line(`sse @${update.position}`, describe(update)));
        wake();
      }
      const last = seen.at(-1);
      out(line('sse', last ? `the ledger ended the stream at ${last.session.status}` : 'the ledger ended the stream: nothing new'));
    } catch (error) {
      failure = error instanceof Error ? error : new Error('the watch failed', { cause: error });
    } finally {
      finished = true;
      wake();
    }
  })();

  /** Resolves once `ready()` holds; rejects when the watch failed, ended, or `SSE_WAIT_MS` passed. */
  async function waitFor<T>(ready: () => T | undefined, what: string): Promise<T> {
    const deadline = Date.now() + SSE_WAIT_MS;
    for (;;) {
      const value = ready();
      if (value !== undefined) return value;
      if (failure !== undefined) throw failure;
      if (finished) throw new DemoError(`the watch of ${sessionId} ended before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new DemoError(`${what} did not arrive over SSE within ${SSE_WAIT_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  return {
    /** The update that brought `status`. */
    until: (status: string) => waitFor(() => seen.find((update) => update.session.status === status), `status ${status}`),
    /** The end of the stream, which the ledger brings after a terminal status. */
    ended: () => waitFor(() => (finished && failure === undefined ? true : undefined), 'the end of the stream'),
    stop: () => stop.abort(),
    /** Settles once the watch is over, however it ended. */
    done: running,
  };
}

type Watch = ReturnType<typeof follow>;
/** Registers a watch with its flow, which stops it when the flow ends, well or not. */
type Track = (watch: Watch) => Watch;

interface Actors {
  controller: LedgerClient;
  frontend: LedgerClient;
  userId: string;
  out: Out;
}

/** Starts a session and its watch; the watch has told `pending` when this resolves. */
async function begin({ controller, frontend, userId, out }: Actors, provider: string, track: Track) {
  const browserVmId = `vm-demo-${randomUUID().slice(0, 8)}`;
  const started = await controller.startSession({ userId, provider, browserVmId });
  out(line('controller', `started session ${started.sessionId} in ${browserVmId}`));
  // The watch opens before anything happens to the session, so it sees every change.
  const watch = track(follow(frontend, started.sessionId, out));
  await watch.until('pending');
  return { ...started, browserVmId, watch, agent: controller.withToken(started.agentToken) };
}

/** Runs one flow with its watches stopped whatever happens, so a failed run can still exit. */
async function withWatches(play: (track: Track) => Promise<void>) {
  const watches: Watch[] = [];
  try {
    await play((watch) => {
      watches.push(watch);
      return watch;
    });
  } finally {
    for (const watch of watches) watch.stop();
    await Promise.all(watches.map((watch) => watch.done));
  }
}

interface Flow {
  title: string;
  play(actors: Actors, provider: string): Promise<void>;
}

const flows: Flow[] = [
  {
    title: 'credentials stored, then the VM is cleaned up',
    play: (actors, provider) =>
      withWatches(async (track) => {
        const { controller, out } = actors;
        const session = await begin(actors, provider, track);
        const credentialRef = `cred-demo-${randomUUID().slice(0, 8)}`;
        out(line('agent', `CredentialsStored credentialRef=${credentialRef}`));
        await session.agent.appendEvent(session.sessionId, { type: 'CredentialsStored', data: { provider, credentialRef } });
        await session.watch.until('completed');
        await session.watch.ended();
        out(line('controller', `VM ${session.browserVmId} destroyed: clean-up after OAuth`));
        const destroyed = await controller.vmDestroyed(session.browserVmId, { reason: 'clean-up after OAuth' });
        const read = await controller.getSession(session.sessionId, { after: destroyed.position });
        out(line('controller', `read after @${destroyed.position}: ${read.status} (completed is terminal: the clean-up changes nothing)`));
      }),
  },
  {
    title: 'the VM is destroyed before OAuth completes; the credentials arrive late',
    play: (actors, provider) =>
      withWatches(async (track) => {
        const { controller, out } = actors;
        const session = await begin(actors, provider, track);
        out(line('controller', `VM ${session.browserVmId} destroyed: VM crashed`));
        await controller.vmDestroyed(session.browserVmId, { reason: 'VM crashed' });
        await session.watch.until('failed');
        out(line('sse', 'the watch stays open: a late success can still come'));
        const credentialRef = `cred-demo-${randomUUID().slice(0, 8)}`;
        out(line('agent', `CredentialsStored credentialRef=${credentialRef} (late: the agent's call was delayed)`));
        await session.agent.appendEvent(session.sessionId, { type: 'CredentialsStored', data: { provider, credentialRef } });
        await session.watch.until('completed');
        await session.watch.ended();
      }),
  },
  {
    title: 'the user cancels',
    play: (actors, provider) =>
      withWatches(async (track) => {
        const { frontend, userId, out } = actors;
        const session = await begin(actors, provider, track);
        const cancel = { type: 'SessionCancelled' as const, data: { cancelledBy: userId } };
        out(line('frontend', `SessionCancelled by ${userId}`));
        await frontend.appendEvent(session.sessionId, cancel);
        await session.watch.until('cancelled');
        // The ledger would keep the watch open for its grace period; the page has what it needs.
        out(line('frontend', 'closes the watch'));
        session.watch.stop();
        try {
          await frontend.appendEvent(session.sessionId, cancel);
          throw new DemoError('a second cancel of a cancelled session was accepted');
        } catch (error) {
          if (!isLedgerProblem(error, 'conflict')) throw error;
          out(line('frontend', `cancels again: refused, ${error.status} ${error.kind} (${String(error.extensions.code)})`));
        }
      }),
  },
];

/**
 * Plays the OAuth flows against a running ledger through the typed client, as the VM manager,
 * the OAuth agent and the user's frontend would, and prints each session's status timeline
 * as it arrives over Server-Sent Events.
 */
export const demo = defineCommand({
  name: 'demo',
  summary: 'play the OAuth flows against a running ledger (LEDGER_URL) and print each status timeline live, over SSE',
  options: {},
  // Its tokens are signed with the running ledger's secret: LEDGER_JWT_SECRET, or the file beside its LEDGER_DB.
  environment: ['LEDGER_URL', 'LEDGER_JWT_SECRET', 'LEDGER_DB', 'LEDGER_PROVIDERS', 'LEDGER_TOKEN_MAX_TTL'],
  examples: ['ledger demo', 'LEDGER_URL=http://127.0.0.1:8080 LEDGER_DB=/var/lib/ledger/ledger.db ledger demo'],
  async run(_arguments, { config, out, err, clock }) {
    const baseUrl = config.LEDGER_URL;
    const sign = createTokenSigner(jwtSecretOf(config, { create: false }), clock);
    const expiresAt = new Date(clock().getTime() + Math.min(TOKEN_TTL_MS, config.LEDGER_TOKEN_MAX_TTL * 1000));
    const userId = `demo-user-${randomUUID().slice(0, 8)}`;
    const controller = createLedgerClient({ baseUrl, token: sign({ role: 'controller', sub: 'demo-vm-manager' }, expiresAt) });
    const frontend = controller.withToken(sign({ role: 'frontend', sub: `user:${userId}`, userId }, expiresAt));

    try {
      // One cheap read first: an unreachable ledger or a token signed with another secret is
      // reported before any flow begins.
      await controller.listSessions({ limit: 1 });
      out(`ledger demo against ${baseUrl}: providers ${config.LEDGER_PROVIDERS.join(', ')}, user ${userId}`);
      for (const provider of config.LEDGER_PROVIDERS) {
        for (const flow of flows) {
          out('');
          out(`${provider} · ${flow.title}`);
          await flow.play({ controller, frontend, userId, out }, provider);
        }
      }
    } catch (error) {
      if (error instanceof LedgerNetworkError) {
        err(`cannot reach the ledger at ${baseUrl}: ${error.message}\nstart it with \`ledger serve\` (or \`npm start\`), or set LEDGER_URL`);
        return 1;
      }
      if (isLedgerProblem(error, 'unauthenticated')) {
        err(`the ledger at ${baseUrl} refused the demo's token: run the demo with the server's LEDGER_JWT_SECRET, or its LEDGER_DB (whose secret file it reads)`);
        return 1;
      }
      if (error instanceof LedgerClientError || error instanceof DemoError) {
        err(`the demo failed: ${error.message}`);
        return 1;
      }
      throw error;
    }
    out('');
    out(`done: ${config.LEDGER_PROVIDERS.length * flows.length} sessions; every status change above came over SSE as it happened`);
    return 0;
  },
});
