/**
 * A writer that never gives up on a request, as the ledger's callers are told to behave: on a
 * dropped connection, a refused one, a 5xx, it sends the SAME request again (same body, so
 * the same event id) to whichever server is up by then, until it gets an answer that is not
 * a failure of the server: a 2xx, or a 4xx that refuses the request itself.
 */

/** One request of the workload, sent as it is each time. */
export interface ChaosRequest {
  method: 'GET' | 'POST';
  path: string;
  token: string;
  body?: unknown;
}

/** Why a send will be repeated: the 5xx it got, or the error that ended it without an answer. */
export interface SendFailure {
  status: number | null;
  detail: string;
}

/** The answer that ended the retries, and how many sends it took. */
export interface FinalAnswer {
  status: number;
  body: unknown;
  attempts: number;
}

export interface RetryingClientOptions {
  /** The base URL of the server up now; waits while one is being restarted. */
  server: () => Promise<string>;
  /** Sends of one request before the client gives up (and the test fails): a bound, not a policy. */
  maxAttempts?: number;
  /**
   * Asked at each answer: true throws it away, as a network that drops the connection after
   * the server answered does. The server has done the work; the client cannot know, and
   * sends again.
   */
  loseAnswer?: () => boolean;
  /** Each send that ended without an answer (`status` null), or with a 5xx. */
  onRetry?: (request: ChaosRequest, failure: SendFailure) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function retryingClient({ server, maxAttempts = 200, loseAnswer = () => false, onRetry }: RetryingClientOptions) {
  return async function untilAnswered(request: ChaosRequest): Promise<FinalAnswer> {
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    let failure: SendFailure = { status: null, detail: '' };
    for (let attempts = 1; attempts <= maxAttempts; attempts++) {
      const url = await server();
      try {
        const answer = await fetch(`${url}${request.path}`, {
          method: request.method,
          headers: { authorization: `Bearer ${request.token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
          body,
          // A SIGKILLed server's sockets are reset by the kernel at once; this bounds anything else.
          signal: AbortSignal.timeout(20_000),
        });
        const text = await answer.text();
        if (answer.status < 500 && loseAnswer()) {
          failure = { status: null, detail: `answer ${answer.status} lost on purpose` };
          onRetry?.(request, failure);
          continue;
        }
        if (answer.status < 500) return { status: answer.status, body: text ? (JSON.parse(text) as unknown) : null, attempts };
        failure = { status: answer.status, detail: text };
        // A 503 says when to come back; shortened, as the test has no time to lose.
        const retryAfter = Number(answer.headers.get('retry-after') ?? 0);
        onRetry?.(request, failure);
        await sleep(Math.min(retryAfter * 1000, 100) || 10);
      } catch (error) {
        failure = { status: null, detail: String((error as Error).cause ?? error) };
        onRetry?.(request, failure);
        await sleep(10);
      }
    }
    throw new Error(`gave up on ${request.method} ${request.path} after ${maxAttempts} sends; the last: ${failure.status ?? ''} ${failure.detail}`);
  };
}

export type UntilAnswered = ReturnType<typeof retryingClient>;
