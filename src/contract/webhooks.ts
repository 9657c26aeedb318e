import { z } from 'zod';
import { Decimal } from './identifiers.js';

/** `GET /v1/webhooks`: each configured subscription, what it wants, and how far its delivery is. Never its secret. */
export const WebhooksJson = z.object({
  webhooks: z.array(
    z.object({
      id: z.string(),
      url: z.string(),
      /** The outcomes it wants; null: every status change (unless `eventTypes` says otherwise). */
      statuses: z.array(z.string()).nullable(),
      eventTypes: z.array(z.string()).nullable(),
      providers: z.array(z.string()).nullable(),
      /** The last position its consumer has passed: delivered, dead-lettered or not wanted. */
      checkpoint: Decimal,
      /** The store's last session position less the checkpoint. */
      lag: Decimal,
      /** Messages that failed every attempt. */
      deadLetters: z.number().int().nonnegative(),
    }),
  ),
});
export type WebhooksJson = z.infer<typeof WebhooksJson>;
