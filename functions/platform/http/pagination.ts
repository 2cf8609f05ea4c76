import { z } from "zod";
import { ProblemError } from "./problem.js";

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Spread into a route's query schema: `z.object({ ...pageQuery, tag: z.string().optional() })`. */
export const pageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(DEFAULT_PAGE_SIZE)
    .meta({ description: `Page size, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})` }),
  cursor: z.string().max(1024).optional().meta({ description: "Opaque cursor from a previous page's `nextCursor`" }),
};

/** The body of every list response: `items` plus the cursor of the next page, null on the last. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/**
 * Cursors are keyset positions (the sort key of the last item), base64url-encoded JSON. They are opaque to
 * clients; a tampered one can only move the position, and one that does not parse is a 400.
 */
export function encodeCursor(position: readonly (string | number | null)[]): string {
  return Buffer.from(JSON.stringify(position)).toString("base64url");
}

const positionSchema = z.array(z.union([z.string(), z.number(), z.null()])).min(1).max(8);

export function decodeCursor(cursor: string | undefined, arity: number): (string | number | null)[] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const position = positionSchema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    if (position.length !== arity) throw new Error("wrong arity");
    return position;
  } catch {
    throw new ProblemError("INVALID_CURSOR", { errors: [{ path: "query.cursor", message: "not a cursor this list issued" }] });
  }
}

/**
 * Decodes a cursor and checks its position against the list's tuple schema before it reaches a query: a tampered
 * one is a 400 (INVALID_CURSOR), never a database error. Undefined when there is no cursor (the first page).
 */
export function decodeCursorAs<T extends z.ZodTuple>(cursor: string | undefined, schema: T): z.output<T> | undefined {
  const position = decodeCursor(cursor, schema.def.items.length);
  if (!position) return undefined;
  const parsed = schema.safeParse(position);
  if (!parsed.success) throw new ProblemError("INVALID_CURSOR", { errors: [{ path: "query.cursor", message: "not a cursor this list issued" }] });
  return parsed.data;
}

/**
 * Cuts a page out of `rows` fetched with `limit + 1` (the extra row tells whether there is a next page)
 * and builds its cursor from the last row kept.
 */
export function paginate<T>(rows: T[], limit: number, positionOf: (row: T) => (string | number | null)[]) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor = rows.length > limit && last !== undefined ? encodeCursor(positionOf(last)) : null;
  return { items, nextCursor };
}

/** `Link: <...>; rel="next"` for the same request URL with the next cursor. */
export function nextLink(requestUrl: string, nextCursor: string | null): Record<string, string> {
  if (!nextCursor) return {};
  const url = new URL(requestUrl);
  url.searchParams.set("cursor", nextCursor);
  return { link: `<${url.pathname}${url.search}>; rel="next"` };
}
