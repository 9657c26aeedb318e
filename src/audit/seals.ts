import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Seal } from '../contract/index.js';

/**
 * A seal: a signed statement that the log's heads, as of a position, hashed to `headsHash`
 * (`heads.ts`). Each seal names the one before it, so seals form a chain of their own; the
 * key signing them lives outside the database, so someone who can rewrite the log and
 * recompute its hash chains still cannot make a seal that vouches for the result.
 */
export type SealStatement = Omit<Seal, 'signature'>;

/** The bytes a seal's signature covers: its four fields, in this order, as JSON. */
export function statementText({ position, headsHash, previousSeal, sealedAt }: SealStatement): string {
  return JSON.stringify({ position, headsHash, previousSeal, sealedAt });
}

/** What the next seal names as its `previousSeal`. */
export function sealHash(seal: SealStatement): string {
  return createHash('sha256').update(statementText(seal), 'utf8').digest('hex');
}

export function signSeal(statement: SealStatement, privateKey: KeyObject): Seal {
  return { ...statement, signature: sign(null, Buffer.from(statementText(statement), 'utf8'), privateKey).toString('base64') };
}

/** The private key of `file` and its public key as PEM. */
export interface SealKey {
  privateKey: KeyObject;
  publicKeyPem: string;
}

export function readSealKey(file: string): SealKey {
  const privateKey = createPrivateKey(readFileSync(file, 'utf8'));
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError(`${file} holds a ${privateKey.asymmetricKeyType ?? 'secret'} key, not Ed25519`);
  return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() };
}

/** Writes a new Ed25519 key: the private key to `file` (0600, never over an existing one), its public key to `<file>.pub`. */
export function writeNewSealKey(file: string): { publicKeyFile: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  const publicKeyFile = `${file}.pub`;
  writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644, flag: 'wx' });
  return { publicKeyFile };
}

/** Why a seal does not hold, in the order they are checked. */
export type SealFailure = 'signature' | 'chain' | 'heads';

/**
 * The first seal whose signature or link to the seal before it does not hold, or null. The
 * heads are checked against the log by `verify`.
 */
export function firstUnsoundSeal(seals: readonly Seal[], publicKey: KeyObject): { index: number; reason: SealFailure } | null {
  let previous: string | null = null;
  let position = -1n;
  for (const [index, seal] of seals.entries()) {
    const { signature, ...statement } = seal;
    if (!verify(null, Buffer.from(statementText(statement), 'utf8'), publicKey, Buffer.from(signature, 'base64'))) return { index, reason: 'signature' };
    // Each seal names the one before it, and the log only grows.
    if (seal.previousSeal !== previous || BigInt(seal.position) < position) return { index, reason: 'chain' };
    previous = sealHash(statement);
    position = BigInt(seal.position);
  }
  return null;
}
