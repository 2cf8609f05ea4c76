import { and, inArray, isNotNull, lt, notInArray } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { importRows, imports } from "../db/schema/index.js";
import type { BlobRemover } from "../privacy/erasure.js";

const running = ["queued", "staging", "applying"] as const;

/**
 * Imports older than the retention lose their file and staged rows (names and addresses); the import's own row
 * (counts, status) stays. A running import is left alone. Returns how many imports were purged.
 */
export async function expireImports(db: Executor, now: Date, retentionDays: number, files: BlobRemover): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  const due = await db
    .select({ id: imports.id, blobName: imports.blobName })
    .from(imports)
    .where(and(lt(imports.createdAt, cutoff), isNotNull(imports.blobName), notInArray(imports.status, [...running])))
    .limit(1_000);
  if (due.length === 0) return 0;
  // The file first: a failure leaves the row to be tried again next run.
  for (const d of due) if (d.blobName) await files.remove(d.blobName);
  const ids = due.map((d) => d.id);
  await db.delete(importRows).where(inArray(importRows.importId, ids));
  await db.update(imports).set({ blobName: null }).where(inArray(imports.id, ids));
  return due.length;
}

