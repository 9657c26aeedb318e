import { z } from 'zod';
import { ExternalRef, SessionId, TokenRole } from '../contract/index.js';
import { Duration } from '../duration.js';
import { TokenClaims } from '../http/claims.js';
import { createTokenSigner } from '../http/tokens.js';
import { defineCommand, UsageError } from './command.js';
import { jwtSecretOf } from './jwt-secret.js';

/** How long a token lives when `--ttl` is not given (or the cap, if that is shorter). */
const DEFAULT_TTL_S = 3600;

const Options = z.object({
  role: TokenRole,
  'session-id': SessionId.optional(),
  'user-id': ExternalRef.optional(),
  sub: z.string().min(1).max(256).optional(),
  ttl: Duration.optional(),
});

/** Mints a bearer token for a role, signed with the ledger's secret; prints only the token. */
export const token = defineCommand({
  name: 'token',
  summary: 'mint a bearer token for a role (controller, agent, frontend, auditor)',
  options: {
    role: { type: 'string', value: '<role>', description: 'controller, agent, frontend or auditor (required)' },
    'session-id': { type: 'string', value: '<id>', description: "the one session an agent token may write to (required for agent)" },
    'user-id': { type: 'string', value: '<id>', description: "the user whose sessions a frontend token may see (required for frontend)" },
    sub: { type: 'string', value: '<subject>', description: 'who the token names in the events it writes; by default derived from the role' },
    ttl: { type: 'string', value: '<duration>', description: 'how long it is valid: seconds, or with s, m, h or d (default 1h); at most LEDGER_TOKEN_MAX_TTL' },
  },
  environment: ['LEDGER_JWT_SECRET', 'LEDGER_DB', 'LEDGER_TOKEN_MAX_TTL'],
  examples: ['ledger token --role controller', 'ledger token --role agent --session-id 0b6c5d3e-5f1a-4c5e-9d43-2b1f0e7a9c10 --ttl 15m'],
  async run({ values }, { config, out, clock }) {
    const options = Options.safeParse(values);
    if (!options.success) throw new UsageError(z.prettifyError(options.error));
    const parsed = options.data;
    const { role, sub } = parsed;
    // The server refuses a token that lives longer than its cap: none is minted.
    const cap = config.LEDGER_TOKEN_MAX_TTL;
    const ttl = parsed.ttl ?? Math.min(DEFAULT_TTL_S, cap);
    if (ttl > cap) throw new UsageError(`--ttl ${values.ttl} is longer than LEDGER_TOKEN_MAX_TTL (${cap} s): the ledger would refuse the token`);
    const claims = TokenClaims.safeParse({
      role,
      sub: sub ?? (role === 'agent' ? `agent:${parsed['session-id']}` : role === 'frontend' ? `user:${parsed['user-id']}` : `cli-${role}`),
      sessionId: parsed['session-id'],
      userId: parsed['user-id'],
    });
    if (!claims.success) throw new UsageError('an agent token needs --session-id, a frontend token --user-id');
    const sign = createTokenSigner(jwtSecretOf(config, { create: false }), clock);
    out(sign(claims.data, new Date(clock().getTime() + ttl * 1000)));
    return 0;
  },
});
