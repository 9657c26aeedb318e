import { z } from 'zod';

/** The roles a bearer token can carry (DESIGN.md's route table). */
export const TOKEN_ROLES = ['controller', 'agent', 'frontend', 'auditor'] as const;
export const TokenRole = z.enum(TOKEN_ROLES);
export type TokenRole = z.infer<typeof TokenRole>;

/** Who an event is recorded as: a token's role, or the ledger itself (the deadline sweeper, an import). */
export const ActorRole = z.enum([...TOKEN_ROLES, 'ledger']);
export type ActorRole = z.infer<typeof ActorRole>;
