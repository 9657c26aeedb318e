import type { EventType } from './schemas.js';

/** Lifts the data of one schema version to the next. Pure. */
export type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

/**
 * `upcasters[type][i]` lifts version `i + 1` of that type's data to version `i + 2`, so a
 * type's current version is one more than the number of its upcasters. Old versions are
 * upcast on read and never rewritten in the store: a log is forever.
 */
export type UpcasterRegistry = Partial<Record<EventType, readonly Upcaster[]>>;

/** The ledger's registry. No event has changed shape yet: every type is at version 1. */
export const ledgerUpcasters: UpcasterRegistry = {};

export function currentSchemaVersion(registry: UpcasterRegistry, type: EventType): number {
  return (registry[type]?.length ?? 0) + 1;
}

/** Applies the upcasters from `version` up to the current version. */
export function upcast(
  registry: UpcasterRegistry,
  type: EventType,
  version: number,
  data: Record<string, unknown>,
): Record<string, unknown> {
  return (registry[type] ?? []).slice(version - 1).reduce((lifted, lift) => lift(lifted), data);
}
