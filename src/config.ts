import { z } from 'zod';
import { Provider } from './contract/index.js';
import { LedgerError } from './ledger-error.js';

/** The ledger's settings, all from the environment, checked once at start. */
const Environment = z.object({
  LEDGER_HOST: z.string().min(1).default('127.0.0.1'),
  LEDGER_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Where events live: the embedded SQLite file, or an EventStoreDB/KurrentDB cluster. */
  LEDGER_STORE: z.enum(['sqlite', 'eventstoredb']).default('sqlite'),
  /** Required with LEDGER_STORE=eventstoredb, e.g. esdb://node1:2113,node2:2113?tls=true */
  EVENTSTORE_CONNECTION_STRING: z.string().min(1).optional(),
  /** The SQLite file: events and read model on the embedded default; the read model only on EventStoreDB. */
  LEDGER_DB: z.string().min(1).default('./data/ledger.db'),
  LEDGER_SQLITE_SYNCHRONOUS: z.enum(['NORMAL', 'FULL', 'EXTRA']).default('FULL'),
  /** When unset, `serve` keeps a random secret in a 0600 file beside the database. */
  LEDGER_JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  LEDGER_PROVIDERS: z
    .string()
    .default('gemini,codex,claude-code')
    .transform((list) => list.split(',').map((provider) => provider.trim()).filter(Boolean))
    .pipe(z.array(Provider).min(1, 'name at least one provider')),
  /** How long `GET …?after=` waits for the read model before answering 503. */
  LEDGER_READ_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
  /**
   * How often the deadline sweeper expires pending sessions past `expiresAt`; 0 turns it off
   * (another instance sweeps). At most an hour: a longer pause leaves abandoned logins
   * pending long after their deadline, and is more likely a slip of the unit.
   */
  LEDGER_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  /**
   * The web origins whose pages may call the API from a browser (CORS), comma-separated, e.g.
   * `https://app.example.com`; none by default.
   */
  LEDGER_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((list) => list.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/ }).refine((origin) => new URL(origin).origin === origin, 'an origin: scheme, host and port, no path'))),
  /** How long a watch stays open after `failed` or `cancelled`, so a late `CredentialsStored` reaches the page live. */
  LEDGER_WATCH_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(120_000),
  /** The Ed25519 private key (PEM) that signs seals of the log; it lives outside the database. Unset: no seals. */
  LEDGER_SEAL_KEY_FILE: z.string().min(1).optional(),
  /** How often `serve` seals the log, if it moved. */
  LEDGER_SEAL_INTERVAL_MS: z.coerce.number().int().min(1000).max(86_400_000).default(60_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const Checked = Environment.refine((env) => env.LEDGER_STORE !== 'eventstoredb' || env.EVENTSTORE_CONNECTION_STRING !== undefined, {
  path: ['EVENTSTORE_CONNECTION_STRING'],
  message: 'required when LEDGER_STORE=eventstoredb',
});

export type LedgerConfig = z.infer<typeof Environment>;

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
