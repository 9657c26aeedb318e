import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ExternalRef, SessionId, TokenRole } from '../contract/index.js';
import { TokenClaims } from '../http/claims.js';
import { createTokenSigner } from '../http/tokens.js';
import type { CliCommand } from './command.js';
import { jwtSecretOf } from './jwt-secret.js';

const Ttl = z
  .string()
  .regex(/^\d+[smhd]?$/, 'a number of seconds, or with s, m, h or d')
  .transform((ttl) => Number.parseInt(ttl, 10) * { s: 1, m: 60, h: 3600, d: 86_400 }[/[smhd]$/.exec(ttl)?.[0] ?? 's']!);

const Options = z.object({
  role: TokenRole,
  'session-id': SessionId.optional(),
  'user-id': ExternalRef.optional(),
  sub: z.string().min(1).max(256).optional(),
  ttl: Ttl.default(3600),
});

/** Mints a bearer token for a role, signed with the ledger's secret; prints only the token. */
export const token: CliCommand = {
  name: 'token',
  summary: 'mint a bearer token for a role (controller, agent, frontend, auditor)',
  usage: 'ledger token --role <role> [--session-id <id>] [--user-id <id>] [--sub <subject>] [--ttl 1h]',
  async run(args, { config, out, err, clock }) {
    let parsed;
    try {
      const { values } = parseArgs({
        args,
        options: { role: { type: 'string' }, 'session-id': { type: 'string' }, 'user-id': { type: 'string' }, sub: { type: 'string' }, ttl: { type: 'string' } },
      });
      parsed = Options.parse(values);
    } catch (error) {
      const reason = error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message;
      err(`${reason}\nusage: ${this.usage}`);
      return 2;
    }
    const { role, sub, ttl } = parsed;
    const claims = TokenClaims.safeParse({
      role,
      sub: sub ?? (role === 'agent' ? `agent:${parsed['session-id']}` : role === 'frontend' ? `user:${parsed['user-id']}` : `cli-${role}`),
      sessionId: parsed['session-id'],
      userId: parsed['user-id'],
    });
    if (!claims.success) {
      err(`an agent token needs --session-id, a frontend token --user-id\nusage: ${this.usage}`);
      return 2;
    }
    const sign = createTokenSigner(jwtSecretOf(config, { create: false }), clock);
    out(sign(claims.data, new Date(clock().getTime() + ttl * 1000)));
    return 0;
  },
};
