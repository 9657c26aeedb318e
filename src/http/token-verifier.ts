import { createVerifier, TOKEN_ERROR_CODES, type TokenValidationErrorCode } from 'fast-jwt';
import { TokenClaims, type Principal } from './claims.js';
import { ProblemError } from './problem-error.js';

/** The one algorithm the ledger signs its tokens and watch tickets with, and takes. */
export const TOKEN_ALGORITHM = 'HS256';

/** The longest a token may live when LEDGER_TOKEN_MAX_TTL is not set: a day. */
export const DEFAULT_TOKEN_MAX_TTL_S = 24 * 3600;

const faults: Partial<Record<TokenValidationErrorCode, string>> = {
  [TOKEN_ERROR_CODES.malformed]: 'is malformed: not a JWT (header.payload.signature, base64url JSON)',
  [TOKEN_ERROR_CODES.invalidType]: 'is malformed: not a JWT (header.payload.signature, base64url JSON)',
  [TOKEN_ERROR_CODES.invalidPayload]: 'is malformed: its payload is not a JSON object',
  [TOKEN_ERROR_CODES.missingSignature]: `is unsigned (alg "none"); the ledger takes ${TOKEN_ALGORITHM} only`,
  [TOKEN_ERROR_CODES.invalidAlgorithm]: `is not signed with ${TOKEN_ALGORITHM}, the only algorithm the ledger takes`,
  [TOKEN_ERROR_CODES.invalidSignature]: "has a signature that does not verify: this ledger did not sign it",
  [TOKEN_ERROR_CODES.invalidCritHeader]: 'names a critical header extension the ledger does not support',
};

/**
 * What is wrong with a JWT that fast-jwt refused, as the end of a sentence about it ("the
 * token …", "the watch ticket …"). Never a word of the token itself: a detail is answered, and
 * what a caller sent as a credential is not to be echoed.
 */
export function jwtFault(error: unknown): string {
  const code = (error as { code?: TokenValidationErrorCode }).code;
  return (code && faults[code]) ?? 'cannot be verified';
}

/** A token the ledger took: who it speaks for, and until when. */
export interface VerifiedToken {
  principal: Principal;
  expiresAt: Date;
}

/** How many verified tokens' payloads are kept, so a token used again is not verified again. */
const VERIFIED_TOKENS_CACHED = 1000;

/** A NumericDate: seconds since the epoch, a JSON number. */
const isSeconds = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

export interface TokenVerifierOptions {
  secret: string;
  /** The longest a token may live: `exp - iat`, and from now to `exp`. */
  maxTtlSeconds: number;
  /** Now, in milliseconds; the system's clock, as the issuers' are. */
  now?: () => number;
}

/**
 * Verifies a ledger token (a bearer token or the console's cookie) and answers every fault
 * with a 401 `unauthenticated` problem that names it. fast-jwt checks the form, the algorithm
 * (HS256 only: `none`, HS512, RS256… are refused) and the signature; the times are checked
 * here, so each is named: `exp` is required (every token expires), `nbf` and `iat` must be
 * numbers when present, and a token may not live longer than the cap, measured from its `iat`
 * and from now (an `iat` set in the future, or left out, does not stretch it). The claims must
 * then be one of the ledger's roles.
 */
export function createTokenVerifier({ secret, maxTtlSeconds, now = Date.now }: TokenVerifierOptions) {
  // A writer sends the same token with every request: its signature is checked once, then its
  // payload comes from fast-jwt's LRU cache (faults are not kept), keyed by the token itself:
  // hashing it would cost much of what the cache saves, and the cache holds 1000 at most. The
  // times are checked here at every request, cached or not.
  const verify = createVerifier({ key: secret, algorithms: [TOKEN_ALGORITHM], ignoreExpiration: true, ignoreNotBefore: true, cache: VERIFIED_TOKENS_CACHED, cacheKeyBuilder: (token: string) => token });
  const refuse = (fault: string) => new ProblemError('unauthenticated', `the token ${fault}`);
  const cap = `the ledger's cap of ${maxTtlSeconds} s (LEDGER_TOKEN_MAX_TTL)`;

  return (token: string): VerifiedToken => {
    let payload: Record<string, unknown>;
    try {
      payload = verify(token) as Record<string, unknown>;
    } catch (error) {
      throw refuse(jwtFault(error));
    }
    const { exp, nbf, iat } = payload;
    const seconds = now() / 1000;
    for (const [name, value] of Object.entries({ exp, nbf, iat })) {
      if (value !== undefined && !isSeconds(value)) throw refuse(`has an ${name} that is not a number of seconds (NumericDate)`);
    }
    if (!isSeconds(exp)) throw refuse('has no exp: every ledger token must expire');
    if (exp <= seconds) throw refuse('has expired');
    if (isSeconds(nbf) && nbf > seconds) throw refuse('is not valid yet: its nbf is in the future');
    if (isSeconds(iat) && exp - iat > maxTtlSeconds) throw refuse(`has a lifetime (exp - iat) of ${exp - iat} s, over ${cap}`);
    if (exp - seconds > maxTtlSeconds) throw refuse(`expires ${Math.ceil(exp - seconds)} s from now, later than ${cap} allows`);
    const claims = TokenClaims.safeParse(payload);
    if (!claims.success) throw refuse('does not carry ledger claims: a role, sub, and sessionId (agent) or userId (frontend)');
    return { principal: claims.data, expiresAt: new Date(exp * 1000) };
  };
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;
