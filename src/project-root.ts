import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root: one folder above this file in src/, two in dist/src/. */
const above = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
export const projectRoot = basename(above) === 'dist' ? resolve(above, '..') : above;

/** The version in the project's package.json, as `ledger --version` prints it. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
}
