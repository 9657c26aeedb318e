import { z } from 'zod';
import { ExternalRef, SessionId } from '../contract/index.js';

/**
 * The claims of a ledger token (HS256). An agent's token names its one session, a
 * frontend's names its user; the controller and the auditor are not scoped.
 */
export const TokenClaims = z.discriminatedUnion('role', [
  z.object({ role: z.literal('controller'), sub: z.string().min(1) }),
  z.object({ role: z.literal('auditor'), sub: z.string().min(1) }),
  z.object({ role: z.literal('agent'), sub: z.string().min(1), sessionId: SessionId }),
  z.object({ role: z.literal('frontend'), sub: z.string().min(1), userId: ExternalRef }),
]);

/** Who is calling, as the verified token says. */
export type Principal = z.infer<typeof TokenClaims>;
