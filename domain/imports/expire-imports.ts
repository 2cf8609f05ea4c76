import { inArray, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { importRows, imports } from "../db/schema/index.js";
import type { BlobRemover } from "../privacy/erasure.js";

/**
 * Imports older than the retention lose their file and staged rows (names and addresses); the import's own row
 * (counts, status) stays. A running import is left alone. Returns how many imports were purged.
 *
 * The imports are claimed in one transaction (locked, re-checked not running, their blob_name cleared) before their
 * rows go: a start racing the housekeeping either waits and then finds no file, or holds the row and is skipped. The
 * files are removed after the commit; a removal that fails leaves an orphaned blob under imports/, never a row
 * that points at a missing file.
 */
export async function expireImports(db: Executor, now: Date, retentionDays: number, files: BlobRemover): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  const claimed = await db.transaction(async (tx) => {
    const rows = await tx.execute<{ id: string; blob_name: string }>(sql`
      with due as (
        select id, blob_name from ${imports}
        where created_at < ${cutoff.toISOString()}::timestamptz and blob_name is not null and status not in ('queued', 'staging', 'applying')
        order by created_at
        limit 1000
        for update skip locked
      )
      update ${imports} i set blob_name = null from due where i.id = due.id
      returning i.id, due.blob_name`);
    const ids = rows.map((r) => r.id);
    if (ids.length > 0) await tx.delete(importRows).where(inArray(importRows.importId, ids));
    return rows;
  });
  for (const c of claimed) await files.remove(c.blob_name);
  return claimed.length;
}
