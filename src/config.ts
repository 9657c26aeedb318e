import { z } from 'zod';
import { Provider } from './events/index.js';

/** The ledger's settings, all from the environment, checked once at start. */
const Environment = z.object({
  LEDGER_DB: z.string().min(1).default('./data/ledger.db'),
  LEDGER_SQLITE_SYNCHRONOUS: z.enum(['NORMAL', 'FULL', 'EXTRA']).default('FULL'),
  LEDGER_PROVIDERS: z
    .string()
    .default('gemini,codex,claude-code')
    .transform((list) => list.split(',').map((provider) => provider.trim()).filter(Boolean))
    .pipe(z.array(Provider).min(1, 'name at least one provider')),
});

export type LedgerConfig = z.infer<typeof Environment>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): LedgerConfig {
  const parsed = Environment.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}
