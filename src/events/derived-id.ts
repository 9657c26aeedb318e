import { createHash } from 'node:crypto';

// A fixed namespace for the ledger's name-based ids (RFC 9562 version 5).
const LEDGER_NAMESPACE = Buffer.from('6f1f5a8e2c7b4d3a9e0b1c2d3e4f5a6b', 'hex');

/**
 * A UUID that is the same every time for the same name: how the ledger gives an event an
 * idempotency key when it is the writer (a second event of one command, an expiry), so
 * that two instances writing the same fact record it once.
 */
export function derivedEventId(name: string): string {
  const hash = createHash('sha1').update(LEDGER_NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
