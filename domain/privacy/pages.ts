// Reading a data export's part in pages, so no part has to fit in memory at once.
import { gt, type SQL } from "drizzle-orm";

export const PAGE = 500;

/** The keyset condition of a page: rows after `id` in `column` (none for the first page). */
export const after = (column: Parameters<typeof gt>[0], id: string | null): SQL | undefined => (id === null ? undefined : gt(column, id));

/** Keyset pages over a table whose ids are time-ordered UUIDs: `read(afterId)` returns up to PAGE rows. */
export async function* byId<T extends { id: string }>(read: (afterId: string | null) => Promise<T[]>): AsyncIterable<T[]> {
  let after: string | null = null;
  for (;;) {
    const rows = await read(after);
    if (rows.length > 0) yield rows;
    if (rows.length < PAGE) return;
    after = (rows.at(-1) as T).id;
  }
}

/** One page: a part small enough to read at once. */
export async function* once(read: () => Promise<unknown[]>): AsyncIterable<unknown[]> {
  yield await read();
}
