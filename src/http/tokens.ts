import { createSigner } from 'fast-jwt';
import type { Principal } from './claims.js';
import { TOKEN_ALGORITHM } from './token-verifier.js';

/**
 * Mints ledger tokens: the agent token answered by `POST /v1/sessions`, the console's cookie,
 * and `ledger token`. Each carries `iat` (from the injected clock) and `exp`; with
 * `maxTtlSeconds`, `exp` is brought forward to the cap, so a token the ledger mints is never
 * one it would refuse (`createTokenVerifier`).
 */
export function createTokenSigner(secret: string, clock: () => Date, { maxTtlSeconds }: { maxTtlSeconds?: number } = {}) {
  // iat is given, so fast-jwt keeps it rather than reading its own clock.
  const sign = createSigner({ key: secret, algorithm: TOKEN_ALGORITHM });
  return (principal: Principal, expiresAt: Date): string => {
    const iat = Math.floor(clock().getTime() / 1000);
    const exp = Math.floor(expiresAt.getTime() / 1000);
    return sign({ ...principal, iat, exp: maxTtlSeconds === undefined ? exp : Math.min(exp, iat + maxTtlSeconds) });
  };
}

export type TokenSigner = ReturnType<typeof createTokenSigner>;
