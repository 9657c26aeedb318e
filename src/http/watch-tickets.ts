import { createHmac, randomUUID } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';
import { z } from 'zod';
import { SessionId } from '../contract/index.js';
import { TokenClaims, type Principal } from './claims.js';
import { ProblemError } from './problem-error.js';
import { jwtFault, TOKEN_ALGORITHM } from './token-verifier.js';

/** How long a ticket may wait to be used. */
export const TICKET_TTL_MS = 30_000;

/** What a ticket carries: who asked for it, and the one watch it opens. */
const TicketClaims = z.object({
  jti: z.string().min(1),
  exp: z.number(),
  watch: z.object({ principal: TokenClaims, sessionId: SessionId }),
});

export interface WatchTickets {
  /** A ticket to open the watch of `sessionId` once, as `principal`, within `TICKET_TTL_MS` and before `notAfter` (its token's expiry). */
  issue(principal: Principal, sessionId: string, notAfter: Date): { ticket: string; expiresAt: string };
  /** The principal a ticket was issued to, once: an expired, used or forged ticket is a 401 naming why; one for another session a 403. */
  redeem(ticket: string, sessionId: string): Principal;
}

/**
 * Watch tickets, for a browser's `EventSource`, which cannot send an `Authorization` header:
 * a page asks for one with its bearer token and passes it in the watch's URL. A ticket is
 * signed (with a key of its own, derived from the ledger's secret, so it is never a bearer
 * token), names one session, expires within `TICKET_TTL_MS`, and is refused once used (this
 * instance remembers the ids it redeemed until they expire).
 */
export function createWatchTickets(secret: string, clock: () => Date): WatchTickets {
  const key = createHmac('sha256', secret).update('session-ledger watch tickets').digest();
  const sign = createSigner({ key, algorithm: TOKEN_ALGORITHM, noTimestamp: true });
  // Expiry is checked below, by the ledger's own clock.
  const verify = createVerifier({ key, algorithms: [TOKEN_ALGORITHM], ignoreExpiration: true, cache: false });
  /** Redeemed ids, until the moment they would have expired anyway. */
  const used = new Map<string, number>();
  const refuse = (why: string) => new ProblemError('unauthenticated', `the watch ticket ${why}; ask for a new one`);

  return {
    issue(principal, sessionId, notAfter) {
      // A ticket never outlives the token it was asked for with.
      const expires = Math.min(clock().getTime() + TICKET_TTL_MS, notAfter.getTime());
      const ticket = sign({ jti: randomUUID(), exp: Math.floor(expires / 1000), watch: { principal, sessionId } });
      return { ticket, expiresAt: new Date(Math.floor(expires / 1000) * 1000).toISOString() };
    },

    redeem(ticket, sessionId) {
      const now = clock().getTime();
      for (const [id, until] of used) if (until <= now) used.delete(id);
      let payload: unknown;
      try {
        payload = verify(ticket);
      } catch (error) {
        throw refuse(jwtFault(error));
      }
      const parsed = TicketClaims.safeParse(payload);
      if (!parsed.success) throw refuse('is not one this ledger issued');
      const claims = parsed.data;
      if (claims.exp * 1000 <= now) throw refuse('has expired');
      if (used.has(claims.jti)) throw refuse('was used already');
      if (claims.watch.sessionId !== sessionId) throw new ProblemError('forbidden', 'the watch ticket is for another session');
      used.set(claims.jti, claims.exp * 1000);
      return claims.watch.principal;
    },
  };
}
