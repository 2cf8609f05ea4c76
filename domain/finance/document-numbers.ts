import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { documentCounters } from "../db/schema/index.js";

export type DocumentSeries = "INV" | "CN";

export interface DocumentNumber {
  /** "INV-2026-000042" */
  number: string;
  year: number;
}

/**
 * The next `count` numbers of the series for the year the documents are issued in (UTC, the platform's time zone),
 * taken in one statement. Must run in the issuing transaction: the counter row stays locked until it commits, and
 * a rollback gives the numbers back, so a year's numbers have no gaps (a database sequence would skip the
 * rolled-back ones).
 */
export async function nextDocumentNumbers(db: Executor, series: DocumentSeries, at: Date, count: number): Promise<DocumentNumber[]> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError("nextDocumentNumbers takes a count of at least 1");
  const year = at.getUTCFullYear();
  const [row] = await db
    .insert(documentCounters)
    .values({ series, year, lastNumber: count })
    .onConflictDoUpdate({ target: [documentCounters.series, documentCounters.year], set: { lastNumber: sql`${documentCounters.lastNumber} + ${count}` } })
    .returning({ lastNumber: documentCounters.lastNumber });
  const first = row!.lastNumber - count + 1;
  return Array.from({ length: count }, (_, i) => ({ number: formatDocumentNumber(series, year, first + i), year }));
}

/** The next number of the series (see `nextDocumentNumbers`). */
export const nextDocumentNumber = async (db: Executor, series: DocumentSeries, at: Date): Promise<DocumentNumber> =>
  (await nextDocumentNumbers(db, series, at, 1))[0]!;

export const formatDocumentNumber = (series: DocumentSeries, year: number, n: number): string => `${series}-${year}-${String(n).padStart(6, "0")}`;
