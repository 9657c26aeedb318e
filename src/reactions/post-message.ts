import { Webhook } from 'standardwebhooks';
import { activeTraceparent } from '../tracing/tracer.js';
import type { WebhookMessage } from './message.js';

/** What one POST came to. */
export type PostOutcome =
  | { delivered: true; status: number }
  /** `retryAfter`: the receiver's `Retry-After` header, as sent, if any. */
  | { delivered: false; error: string; retryAfter: string | null };

/**
 * One signed POST of a message, per Standard Webhooks: `webhook-id`, `webhook-timestamp`
 * (the signing time, in seconds) and `webhook-signature` over id, timestamp and body. A 2xx
 * is delivered; anything else, a network error or no answer within `timeoutMs`, is not.
 * The receiver's body is read and dropped, so the connection can be reused.
 */
export async function postMessage(
  target: { url: string; signer: Webhook; timeoutMs: number },
  message: WebhookMessage,
  now: Date,
  signal: AbortSignal,
): Promise<PostOutcome> {
  const signature = target.signer.sign(message.id, now, message.body);
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': message.id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
        // The delivery's span, when traced: a receiver that traces continues the trace.
        ...activeTraceparent(),
      },
      body: message.body,
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(target.timeoutMs)]),
    });
    await response.body?.cancel().catch(() => {});
    if (response.status >= 200 && response.status < 300) return { delivered: true, status: response.status };
    return { delivered: false, error: `answered ${response.status}`, retryAfter: response.headers.get('retry-after') };
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${target.timeoutMs} ms` : describe(error);
    return { delivered: false, error: reason, retryAfter: null };
  }
}

/** A fetch failure says little by itself ("fetch failed"); its cause names the refusal or the reset. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
