/** Dates cross the API as ISO 8601 UTC strings; `null` clears a value, `undefined` leaves it alone. */
export const isoOrNull = (d: Date | null): string | null => d?.toISOString() ?? null;

export const toDate = (v: string | null | undefined): Date | null | undefined => (v === undefined ? undefined : v === null ? null : new Date(v));
