import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LedgerConfig } from '../config.js';
import { ConfigError } from '../config.js';

/** Where the generated secret lives when LEDGER_JWT_SECRET is unset: beside the database. */
export const secretFileOf = (config: LedgerConfig) => `${config.LEDGER_DB}.jwt-secret`;

/**
 * The token secret: LEDGER_JWT_SECRET, or the one `serve` generated beside the database
 * (created once, mode 0600, never overwritten), so the embedded default needs no set-up
 * and is still not guessable. `token` reads it but never creates it.
 */
export function jwtSecretOf(config: LedgerConfig, { create }: { create: boolean }): string {
  if (config.LEDGER_JWT_SECRET) return config.LEDGER_JWT_SECRET;
  const file = secretFileOf(config);
  if (create) {
    mkdirSync(dirname(file), { recursive: true });
    try {
      writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new ConfigError(`no token secret: set LEDGER_JWT_SECRET, or run \`ledger serve\` once to create ${file}`);
  }
}
