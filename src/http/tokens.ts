import { createSigner } from 'fast-jwt';
import type { Principal } from './claims.js';

/**
 * Mints ledger tokens: the agent token answered by `POST /v1/sessions`, and `ledger token`.
 * Verification is @fastify/jwt's, with the same secret and algorithm.
 */
export function createTokenSigner(secret: string, clock: () => Date) {
  // iat comes from the injected clock, not fast-jwt's own.
  const sign = createSigner({ key: secret, algorithm: 'HS256', noTimestamp: true });
  return (principal: Principal, expiresAt: Date): string => {
    const iat = Math.floor(clock().getTime() / 1000);
    return sign({ ...principal, iat, exp: Math.floor(expiresAt.getTime() / 1000) });
  };
}

export type TokenSigner = ReturnType<typeof createTokenSigner>;
