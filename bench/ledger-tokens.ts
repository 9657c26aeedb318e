// The tokens a scenario calls the ledger with, minted as `ledger token` mints them
// (src/cli/token.ts): the claims checked by the ledger's own schema, signed with its secret by
// its own signer, valid for an hour. The secret is made per run and given to the ledger-serve
// child in LEDGER_JWT_SECRET, as an operator sets it.
import { randomBytes } from 'node:crypto';
import { TokenClaims, type Principal } from '../src/http/claims.js';
import { createTokenSigner } from '../src/http/tokens.js';

const TTL_MS = 3_600_000;

/** A fresh secret of the length `ledger serve` generates its own with. */
export const freshJwtSecret = (): string => randomBytes(48).toString('base64url');

/** Signs tokens for `claims`, each valid for an hour from when it is minted. */
export function tokenMinter(secret: string): (claims: Principal) => string {
  const sign = createTokenSigner(secret, () => new Date());
  return (claims) => sign(TokenClaims.parse(claims), new Date(Date.now() + TTL_MS));
}
