import type { SessionStatus } from '../contract/index.js';
import type { WebhookSubscription } from './subscriptions.js';

/** What one event did to its session: the status before and after it, and the session's provider. */
export interface SessionChange {
  eventType: string;
  /** Null when the event is the stream's first. */
  before: SessionStatus | null;
  after: SessionStatus;
  provider: string | null;
}

export type Filters = Pick<WebhookSubscription, 'statuses' | 'eventTypes' | 'providers'>;

/**
 * Whether a subscription wants a change. A status change is wanted when its new status is
 * among `statuses`, or, when neither `statuses` nor `eventTypes` is given, whatever it is;
 * an event is also wanted when its type is among `eventTypes`. `providers` narrows both.
 * A stream's first event puts the session in `pending`: that is its start, not a change.
 */
export function matches(filters: Filters, change: SessionChange): boolean {
  const { statuses, eventTypes, providers } = filters;
  if (providers !== undefined && (change.provider === null || !providers.includes(change.provider))) return false;
  const statusChanged = change.before !== null && change.before !== change.after;
  const wantedStatus =
    statusChanged && (statuses === undefined ? eventTypes === undefined : (statuses as readonly string[]).includes(change.after));
  const wantedType = eventTypes !== undefined && (eventTypes as readonly string[]).includes(change.eventType);
  return wantedStatus || wantedType;
}
