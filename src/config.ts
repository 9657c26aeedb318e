import { z } from 'zod';
import { Provider } from './contract/index.js';
import { Duration } from './duration.js';
import { LedgerError } from './ledger-error.js';

/** A variable that, set to the empty string, is taken as not set. */
const unsetWhenEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema);

/**
 * The ledger's settings, all from the environment, checked once at start. Each variable's
 * description and default are what `ledger --help` lists (`environment-help.ts`), so the
 * list cannot drift from what is read.
 */
const Environment = z.object({
  LEDGER_HOST: z.string().min(1).default('127.0.0.1').describe('the address `serve` listens on'),
  LEDGER_PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe('the port `serve` listens on; 0 picks a free one'),
  LEDGER_STORE: z
    .enum(['sqlite', 'eventstoredb'])
    .default('sqlite')
    .describe('where events live: the embedded SQLite file, or an EventStoreDB/KurrentDB cluster'),
  EVENTSTORE_CONNECTION_STRING: z
    .string()
    .min(1)
    .optional()
    .describe('the cluster, required with LEDGER_STORE=eventstoredb, e.g. esdb://node1:2113,node2:2113?tls=true'),
  LEDGER_DB: z
    .string()
    .min(1)
    .default('./data/ledger.db')
    .describe('the SQLite file: events and read model on the embedded default; the read model only on EventStoreDB'),
  LEDGER_SQLITE_SYNCHRONOUS: z
    .enum(['NORMAL', 'FULL', 'EXTRA'])
    .default('FULL')
    .describe("SQLite's synchronous mode; FULL keeps an acknowledged append through a power loss"),
  LEDGER_JWT_SECRET: z
    .string()
    .min(32, 'at least 32 characters')
    .optional()
    .describe('the secret tokens are signed with (32+ characters); unset, `serve` keeps a random one in <LEDGER_DB>.jwt-secret (mode 0600)'),
  // A token with no end, or one good for a year, is a leak waiting to last: every token must
  // expire, and within this cap. At least a minute, at most 30 days.
  LEDGER_TOKEN_MAX_TTL: z
    .string()
    .default('24h')
    .pipe(Duration)
    .pipe(z.number().int().min(60, 'at least a minute').max(30 * 86_400, 'at most 30 days'))
    .describe('the longest a token may live (exp - iat, and from now), in seconds or with s, m, h or d; a longer one is refused, `token` mints none'),
  LEDGER_PROVIDERS: z
    .string()
    .default('gemini,codex,claude-code')
    .transform((list) => list.split(',').map((provider) => provider.trim()).filter(Boolean))
    .pipe(z.array(Provider).min(1, 'name at least one provider'))
    .describe('the provider slugs a session may name, comma-separated'),
  LEDGER_READ_WAIT_MS: z
    .coerce.number()
    .int()
    .min(0)
    .max(60_000)
    .default(5000)
    .describe('how long a read with `?after=` waits for the read model before answering 503'),
  // At most an hour: a longer pause leaves abandoned logins pending long after their
  // deadline, and is more likely a slip of the unit.
  LEDGER_SWEEP_INTERVAL_MS: z
    .coerce.number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(10_000)
    .describe('how often the deadline sweeper expires pending sessions past `expiresAt`; 0 turns it off (another instance sweeps)'),
  LEDGER_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((list) => list.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/ }).refine((origin) => new URL(origin).origin === origin, 'an origin: scheme, host and port, no path')))
    .describe('the web origins whose pages may call the API (CORS), comma-separated, e.g. https://app.example.com; none when empty'),
  LEDGER_WATCH_GRACE_MS: z
    .coerce.number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(120_000)
    .describe('how long a watch stays open after `failed` or `cancelled`, so a late `CredentialsStored` reaches the page live'),
  LEDGER_SEAL_KEY_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('the Ed25519 private key (PEM) that signs seals of the log, kept outside the database; unset: no seals'),
  LEDGER_WEBHOOKS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('a JSON file of webhook subscriptions ({ id, url, secret, statuses?, eventTypes?, providers?, timeoutMs? }), checked at start; unset: no webhooks'),
  LEDGER_SEAL_INTERVAL_MS: z.coerce.number().int().min(1000).max(86_400_000).default(60_000).describe('how often `serve` seals the log, if it moved'),
  // Resource bounds: each one keeps a client (or a flood of them) from taking what others need.
  LEDGER_RATE_LIMIT_MAX: z
    .coerce.number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(3000)
    .describe('requests one credential (a bearer token, the console cookie; without one, one address) may make per window before 429; 0 turns the limit off'),
  LEDGER_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).max(3_600_000).default(10_000).describe('the window of LEDGER_RATE_LIMIT_MAX'),
  LEDGER_REQUEST_TIMEOUT_MS: z
    .coerce.number()
    .int()
    .min(1000)
    .max(600_000)
    .default(30_000)
    .describe('how long a request may take to arrive, headers and body, before 408 (a watch, once asked for, is not cut by it)'),
  LEDGER_HEADERS_TIMEOUT_MS: z
    .coerce.number()
    .int()
    .min(1000)
    .max(600_000)
    .default(10_000)
    .describe("how long a request's headers may take to arrive (an idle new connection included) before 408; at most LEDGER_REQUEST_TIMEOUT_MS"),
  LEDGER_KEEP_ALIVE_TIMEOUT_MS: z
    .coerce.number()
    .int()
    .min(1000)
    .max(600_000)
    .default(72_000)
    .describe("how long an idle kept-alive connection stays open; above a load balancer's own idle timeout (often 60 s)"),
  LEDGER_MAX_EVENT_LOOP_DELAY_MS: z
    .coerce.number()
    .int()
    .min(0)
    .max(60_000)
    .default(1000)
    .describe('the event-loop delay past which requests are shed with 503 (load shedding); 0 never sheds on it'),
  LEDGER_MAX_HEAP_USED_MB: z
    .coerce.number()
    .int()
    .min(0)
    .max(1_048_576)
    .default(0)
    .describe('the used heap, in MiB, past which requests are shed with 503; 0 never sheds on it'),
  LEDGER_LOG_BUFFER_BYTES: z
    .coerce.number()
    .int()
    .min(16_384)
    .max(1_073_741_824)
    .default(4_194_304)
    .describe('log output held for a reader that does not keep up; lines past it are dropped and counted (ledger_log_lines_dropped_total)'),
  LEDGER_SHUTDOWN_TIMEOUT_MS: z
    .coerce.number()
    .int()
    .min(1000)
    .max(600_000)
    .default(10_000)
    .describe('how long `serve` waits on SIGTERM for requests and parts to finish before it exits anyway (exit code 1)'),
  LEDGER_URL: z
    .url({ protocol: /^https?$/, error: 'an http(s) URL, e.g. http://127.0.0.1:3000' })
    .default('http://127.0.0.1:3000')
    .describe('where `ledger demo` finds a running ledger'),
  // Tracing: OpenTelemetry's own variables, read here only to decide whether `serve` traces at
  // all. As OpenTelemetry's specification says, an empty one is one not set.
  OTEL_EXPORTER_OTLP_ENDPOINT: unsetWhenEmpty(z.url({ protocol: /^https?$/, error: 'an http(s) URL, e.g. http://127.0.0.1:4318' }).optional())
    .describe('where `serve` sends traces (OTLP over HTTP, protobuf); set, tracing is on. The exporter reads the other OTEL_EXPORTER_OTLP_* itself'),
  OTEL_TRACES_EXPORTER: unsetWhenEmpty(
    z
      .string()
      .transform((list) => list.split(',').map((name) => name.trim()).filter(Boolean))
      .pipe(z.array(z.enum(['otlp', 'console', 'none'])).min(1, 'name an exporter: otlp, console or none'))
      .optional(),
  ).describe('where `serve` sends traces: otlp, console or none, comma-separated; set (and not none), tracing is on. Unset: otlp when OTEL_EXPORTER_OTLP_ENDPOINT is set'),
  OTEL_SERVICE_NAME: unsetWhenEmpty(z.string().optional()).describe('the `service.name` of the traces; session-ledger when unset'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe("the lowest level `serve` logs (pino's levels)"),
});

const Checked = Environment.refine((env) => env.LEDGER_STORE !== 'eventstoredb' || env.EVENTSTORE_CONNECTION_STRING !== undefined, {
  path: ['EVENTSTORE_CONNECTION_STRING'],
  message: 'required when LEDGER_STORE=eventstoredb',
}).refine((env) => env.LEDGER_HEADERS_TIMEOUT_MS <= env.LEDGER_REQUEST_TIMEOUT_MS, {
  // The headers are part of the request: a longer bound for them would never be reached.
  path: ['LEDGER_HEADERS_TIMEOUT_MS'],
  message: 'at most LEDGER_REQUEST_TIMEOUT_MS',
});

export type LedgerConfig = z.infer<typeof Environment>;

/** The name of a variable the ledger reads. */
export type EnvironmentVariable = keyof LedgerConfig;

/** The schema of each variable, for the help that lists them. */
export const environmentSchema = Environment.shape;

export class ConfigError extends LedgerError {
  override readonly name = 'ConfigError';
  readonly code = 'invalid-config';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): LedgerConfig {
  const parsed = Checked.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}
