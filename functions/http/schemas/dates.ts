/** Dates cross the API as ISO 8601 UTC strings; `null` clears a value, `undefined` leaves it alone. */
export const isoOrNull = (d: Date | null): string | null => d?.toISOString() ?? null;

/** An ISO string from a parsed body or query as a Date, keeping `null` and `undefined` as they are. */
export function toDate(v: string): Date;
export function toDate(v: string | null): Date | null;
export function toDate(v: string | null | undefined): Date | null | undefined;
export function toDate(v: string | null | undefined): Date | null | undefined {
  return v === undefined ? undefined : v === null ? null : new Date(v);
}
