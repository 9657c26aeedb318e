import { createHash } from 'node:crypto';
import type { SessionJson } from '../contract/index.js';

/** One message to one subscription: its stable id and its JSON body. */
export interface WebhookMessage {
  /** `webhook-id`: the same for every delivery of this event to this subscription. */
  id: string;
  body: string;
}

/**
 * The `webhook-id` of an event for a subscription: derived from both, so a redelivery (a
 * retry, a restart from the checkpoint) carries the same id and a receiver can drop it,
 * while two subscriptions of one receiver still tell their messages apart.
 */
export function webhookIdOf(subscriptionId: string, eventId: string): string {
  // The subscription id's length first, so no two pairs of ids make the same input.
  const input = `${Buffer.byteLength(subscriptionId)}:${subscriptionId}${eventId}`;
  return `msg_${createHash('sha256').update(input, 'utf8').digest('base64url').slice(0, 32)}`;
}

/**
 * The message Standard Webhooks recommends: a type, when it happened (the event's
 * `recordedAt`), and the session as `GET /v1/sessions/:id` answers it after the event.
 */
export function buildMessage(subscriptionId: string, eventId: string, timestamp: string, session: SessionJson): WebhookMessage {
  return {
    id: webhookIdOf(subscriptionId, eventId),
    body: JSON.stringify({ type: 'session.status_changed', timestamp, data: session }),
  };
}
