import { Webhook } from 'standardwebhooks';
import { SESSION_CATEGORY, sessionIdOfStream, type RecordedEvent } from '../events/index.js';
import { toSessionJson } from '../http/session-json.js';
import { sessionRowOf } from '../projector/session-row.js';
import { StoreClosedError } from '../store/errors.js';
import type { EventStore } from '../store/port.js';
import type { PartLogger } from '../part-logger.js';
import { nextDelayMs, retryAfterMs, type RetrySchedule } from './backoff.js';
import type { DeliveryState } from './delivery-state.js';
import { matches } from './matching.js';
import { buildMessage, type WebhookMessage } from './message.js';
import { postMessage } from './post-message.js';
import { createSessionStates } from './session-states.js';
import type { WebhookSubscription } from './subscriptions.js';
import { contextOfTraceparent, eventAttributes, LedgerAttributes, SpanKind, tracer } from '../tracing/tracer.js';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';

/** Waits `ms`, or less if the signal aborts (it then resolves all the same). */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface ConsumerOptions {
  subscription: WebhookSubscription;
  store: EventStore;
  state: DeliveryState;
  schedule: RetrySchedule;
  clock: () => Date;
  sleep: Sleep;
  random: () => number;
  /** How long to wait before resubscribing after the subscription fails. */
  retryDelayMs: number;
  /** How often an idle consumer looks for a replay asked by `ledger webhooks replay` (another process). */
  replayCheckMs: number;
  observer: DeliveryObserver;
  logger: PartLogger;
}

/** Told of each outcome as it happens: what `/metrics` counts. */
export interface DeliveryObserver {
  delivered(subscriptionId: string): void;
  failedAttempt(subscriptionId: string): void;
  deadLettered(subscriptionId: string): void;
}

export const ignoreDeliveries: DeliveryObserver = { delivered() {}, failedAttempt() {}, deadLettered() {} };

/** Skipped events move the stored checkpoint at most this often, so a catch-up does not write once per event. */
const SKIPS_PER_CHECKPOINT = 500;

/**
 * One subscription's delivery: follows the session streams from its checkpoint, one event at
 * a time in position order, and for each change the subscription wants posts one message,
 * retried per the schedule until a 2xx or the last attempt, when it goes to the dead letters.
 * The checkpoint moves past an event only then, so a restart resends what was not delivered
 * (with the same `webhook-id`), and a session's messages go out in its order. Its own loop:
 * however long a receiver takes, no append, projector or other subscription waits for it.
 */
export function createWebhookConsumer(options: ConsumerOptions) {
  const { subscription, store, state, schedule, clock, sleep, random, retryDelayMs, replayCheckMs, observer, logger } = options;
  const signer = new Webhook(subscription.secret);
  const target = { url: subscription.url, signer, timeoutMs: subscription.timeoutMs };
  const states = createSessionStates(store);
  let position = state.checkpoint(subscription.id);
  let stored = position;
  let skipped = 0;
  let delivered = 0;
  let stopping: AbortController | null = null;
  let loop: Promise<void> = Promise.resolve();

  const storeCheckpoint = () => {
    if (position === stored) return;
    state.moveCheckpoint(subscription.id, position);
    stored = position;
    skipped = 0;
  };

  /** The message an event makes for this subscription, or null when it wants none. */
  async function messageOf(event: RecordedEvent): Promise<WebhookMessage | null> {
    const sessionId = sessionIdOfStream(event.streamName);
    if (sessionId === null) return null;
    const { before, after } = await states.around(event);
    const change = { eventType: event.type, before: before.revision < 0n ? null : before.status, after: after.status, provider: after.provider };
    if (!matches(subscription, change)) return null;
    return buildMessage(subscription.id, event.eventId, event.metadata.recordedAt, toSessionJson(sessionRowOf(sessionId, after)));
  }

  /**
   * Posts until delivered or out of attempts; false when stopped first (the message is sent
   * again after a restart). Each attempt is a span, a child of the command that recorded the
   * event (its stored `traceparent`): the request, its append and each subscription's
   * attempts, in one trace, none held open through a backoff. Each POST carries its attempt's
   * `traceparent`, so a traced receiver joins the trace.
   */
  async function deliver(message: WebhookMessage, event: RecordedEvent, signal: AbortSignal): Promise<boolean> {
    const at = event.position;
    const parent = contextOfTraceparent(event.metadata.traceparent);
    const attributes = { [LedgerAttributes.subscription]: subscription.id, [LedgerAttributes.webhookId]: message.id, ...eventAttributes(event) };
    for (let attempt = 1; ; attempt++) {
      const span = tracer.startSpan('webhook delivery', { kind: SpanKind.PRODUCER, attributes: { ...attributes, [LedgerAttributes.attempt]: attempt } }, parent);
      const outcome = await context.with(trace.setSpan(parent ?? context.active(), span), () => postMessage(target, message, clock(), signal));
      const settle = (said: string, status?: number) => {
        span.setAttributes({ [LedgerAttributes.outcome]: said, ...(status !== undefined && { 'http.response.status_code': status }) });
        if (!outcome.delivered) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error });
        span.end();
      };
      if (signal.aborted) {
        settle('stopped');
        return false;
      }
      if (outcome.delivered) {
        settle('delivered', outcome.status);
        delivered++;
        observer.delivered(subscription.id);
        return true;
      }
      observer.failedAttempt(subscription.id);
      if (attempt >= schedule.maxAttempts) {
        settle('dead-lettered');
        state.deadLetter({
          subscriptionId: subscription.id,
          webhookId: message.id,
          position: at,
          body: message.body,
          attempts: attempt,
          lastError: outcome.error,
          failedAt: clock().toISOString(),
        });
        stored = at;
        observer.deadLettered(subscription.id);
        logger.error({ subscription: subscription.id, webhookId: message.id, position: String(at), attempts: attempt, err: outcome.error }, 'webhook message dead-lettered');
        return true;
      }
      const waitMs = nextDelayMs(schedule, attempt, retryAfterMs(outcome.retryAfter, clock()), random);
      span.setAttribute(LedgerAttributes.retryInMs, waitMs);
      settle('failed');
      logger.warn({ subscription: subscription.id, webhookId: message.id, attempt, retryInMs: waitMs, err: outcome.error }, 'webhook delivery failed; retrying');
      await sleep(waitMs, signal);
      if (signal.aborted) return false;
    }
  }

  /**
   * A replay asked for (by `ledger webhooks replay`, maybe from another process) is taken
   * here: the checkpoint goes back to its position, and so does the consumer.
   */
  function takeReplay(): void {
    const from = state.takeReplay(subscription.id);
    if (from === null) return;
    logger.info({ subscription: subscription.id, from: String(from), was: String(position) }, 'webhook consumer replaying from a position');
    position = from;
    stored = from;
    skipped = 0;
  }

  /** Follows the store until stopped, or until a replay is asked (then returns, for `run` to take it). */
  async function follow(signal: AbortSignal): Promise<void> {
    const subscribed = store.subscribe({ after: position, category: SESSION_CATEGORY });
    const stop = () => void subscribed.close();
    signal.addEventListener('abort', stop, { once: true });
    // While no message comes, the request is looked for on a timer; with messages, at each.
    let replayAsked = false;
    const idleCheck = setInterval(() => {
      if (!state.replayPending(subscription.id)) return;
      replayAsked = true;
      stop();
    }, replayCheckMs);
    try {
      for await (const message of subscribed) {
        if (signal.aborted || replayAsked) return;
        if (state.replayPending(subscription.id)) return;
        if (message.kind === 'caughtUp') {
          storeCheckpoint();
          continue;
        }
        const { event } = message;
        const webhook = await messageOf(event);
        if (webhook === null) {
          position = event.position;
          if (++skipped >= SKIPS_PER_CHECKPOINT) storeCheckpoint();
          continue;
        }
        // What was skipped before it is passed for good once it is out.
        if (!(await deliver(webhook, event, signal))) return;
        position = event.position;
        storeCheckpoint();
      }
      if (!signal.aborted && !replayAsked) throw new Error('the subscription ended');
    } finally {
      clearInterval(idleCheck);
      signal.removeEventListener('abort', stop);
      await subscribed.close();
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    logger.info({ subscription: subscription.id, position: String(position) }, 'webhook consumer starting from its checkpoint');
    while (!signal.aborted) {
      try {
        takeReplay();
        await follow(signal);
      } catch (error) {
        if (error instanceof StoreClosedError) {
          logger.error({ subscription: subscription.id, err: error }, 'webhook consumer stopped: the store is closed');
          return;
        }
        if (signal.aborted) break;
        logger.warn({ subscription: subscription.id, err: error, retryInMs: retryDelayMs }, 'webhook subscription failed; resubscribing from the checkpoint');
        await sleep(retryDelayMs, signal);
      }
    }
    // Skipped events up to here need no resending.
    storeCheckpoint();
  }

  return {
    subscription,
    start() {
      if (stopping) return;
      position = state.checkpoint(subscription.id);
      stored = position;
      stopping = new AbortController();
      loop = run(stopping.signal).catch((error: unknown) => {
        logger.error({ subscription: subscription.id, err: error }, 'webhook consumer stopped by an error');
      });
    },
    async stop() {
      stopping?.abort();
      await loop;
      stopping = null;
    },
    /** The last position passed: delivered, dead-lettered or not wanted. */
    get checkpoint() {
      return position;
    },
    get delivered() {
      return delivered;
    },
  };
}

export type WebhookConsumer = ReturnType<typeof createWebhookConsumer>;
