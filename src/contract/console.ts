import { z } from 'zod';

// The console's login: a bearer token exchanged once for an HttpOnly cookie.

/** The name of the console's cookie; it holds a ledger token of its own, never readable by a script. */
export const CONSOLE_COOKIE = 'ledger_console';

/** `POST` and `GET /v1/console/login`: who the console's cookie speaks for, until when (null: a token that never expires). */
export const ConsoleLoginJson = z.object({
  role: z.enum(['auditor', 'controller']),
  sub: z.string(),
  expiresAt: z.string().nullable(),
});
export type ConsoleLoginJson = z.infer<typeof ConsoleLoginJson>;
