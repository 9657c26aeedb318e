import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../config.js';
import { eventTypes, type EventType, type TerminalStatus } from '../contract/index.js';

/** The outcomes a subscription may ask for: the statuses a session reaches, not the one it starts in. */
const OUTCOMES = ['completed', 'failed', 'cancelled'] as const satisfies readonly TerminalStatus[];

/** A Standard Webhooks secret: `whsec_` and the key in base64 (at least 24 bytes of key, as the spec advises). */
const Secret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'a Standard Webhooks secret: whsec_ followed by base64')
  .refine((secret) => Buffer.from(secret.slice('whsec_'.length), 'base64').length >= 24, 'the key after whsec_ must be at least 24 bytes');

/** One subscription as the operator writes it in LEDGER_WEBHOOKS_FILE. */
const subscriptionOf = (providers: readonly string[]) =>
  z.strictObject({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-", at most 64'),
    // A user and password in the URL would be refused by fetch at every delivery, its error
    // quoting them into the log; the signature is what authenticates the ledger to a receiver.
    url: z
      .url({ protocol: /^https?$/, error: 'an http(s) URL' })
      .refine((url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url), 'no user or password in the URL: the signature authenticates the sender'),
    secret: Secret,
    statuses: z.array(z.enum(OUTCOMES)).min(1).optional(),
    eventTypes: z.array(z.enum(eventTypes as [EventType, ...EventType[]])).min(1).optional(),
    providers: z
      .array(z.string().refine((provider) => providers.includes(provider), `one of the configured providers (${providers.join(', ')})`))
      .min(1)
      .optional(),
    /** How long one POST may take before it counts as failed. */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  });

export type WebhookSubscription = z.infer<ReturnType<typeof subscriptionOf>>;

const subscriptionsOf = (providers: readonly string[]) =>
  z.array(subscriptionOf(providers)).superRefine((subscriptions, context) => {
    const seen = new Set<string>();
    subscriptions.forEach(({ id }, index) => {
      if (seen.has(id)) context.addIssue({ code: 'custom', path: [index, 'id'], message: `id ${id} is used twice` });
      seen.add(id);
    });
  });

/** The subscriptions a file's text declares; a ConfigError naming the file and each faulty field otherwise. */
export function parseSubscriptions(text: string, providers: readonly string[], file: string): WebhookSubscription[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`invalid webhooks file ${file}: not JSON (${(error as Error).message})`);
  }
  const parsed = subscriptionsOf(providers).safeParse(json);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.length === 0 ? '(the file)' : issue.path.map(String).join('.')}: ${issue.message}`);
  throw new ConfigError(`invalid webhooks file ${file}:\n${lines.join('\n')}`);
}

/** LEDGER_WEBHOOKS_FILE's subscriptions; none when it is unset. */
export function loadSubscriptions(file: string | undefined, providers: readonly string[]): WebhookSubscription[] {
  if (file === undefined) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`invalid webhooks file ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseSubscriptions(text, providers, file);
}
