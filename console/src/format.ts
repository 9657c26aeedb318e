// How the console writes instants, positions and hashes: UTC, as the log records them.

/** `2026-12-02 09:14:03Z`, or an en dash for nothing. */
export function instant(iso: string | null | undefined): string {
  if (!iso) return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** The first characters of a hash: enough to compare by eye. */
export function shortHash(hash: string | null): string {
  return hash === null ? 'before the chain' : `${hash.slice(0, 12)}…`;
}

/** A share as a percentage, or an en dash when there is none. */
export function percent(share: number | null): string {
  return share === null ? '–' : `${(share * 100).toFixed(1)} %`;
}

/** An `<input type="datetime-local">` value (read as UTC) as an ISO instant, or undefined when empty. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  // Minutes only, or with seconds: the input gives either.
  return new Date(`${value}${value.length === 16 ? ':00' : ''}Z`).toISOString();
}
