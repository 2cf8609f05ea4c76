import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { generationJobs } from "../db/schema/index.js";
import type { BlobRemover } from "../privacy/erasure.js";

/** A document asked for but never used by a job is deleted (row and blob) this long after it was asked for. */
const UNUSED_DOCUMENT_MS = 86_400_000;

export interface ExpiredGenerationDocuments {
  /** `awaiting-upload` rows (documents never started) older than a day, deleted with whatever was uploaded. */
  unused: number;
  /** Finished jobs whose document blob was deleted at the end of the retention (the job row stays). */
  finished: number;
}

/**
 * Generation documents outliving their use: documents no job took within a day go (row and blob); a finished
 * job's document blob goes `retentionDays` after it finished, its source marked `removedAt` so it is not taken
 * again. A start racing the delete holds the document's row lock, so the delete re-checks it and skips a started
 * job. Blobs are removed after the rows changed: a failed removal leaves an orphaned blob, never a row pointing at
 * a missing file that someone could still start from.
 */
export async function expireGenerationDocuments(db: Executor, now: Date, retentionDays: number, files: BlobRemover): Promise<ExpiredGenerationDocuments> {
  const unusedCutoff = new Date(now.getTime() - UNUSED_DOCUMENT_MS).toISOString();
  const finishedCutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
  const unused = await db.execute<{ blob_name: string }>(sql`
    delete from ${generationJobs}
    where id in (select id from ${generationJobs} where status = 'awaiting-upload' and created_at < ${unusedCutoff}::timestamptz order by created_at limit 1000)
      and status = 'awaiting-upload'
    returning source->>'blobName' as blob_name`);
  const finished = await db.execute<{ blob_name: string }>(sql`
    with due as (
      select id, source->>'blobName' as blob_name from ${generationJobs}
      where source->>'kind' = 'document' and status in ('succeeded', 'failed') and finished_at < ${finishedCutoff}::timestamptz and not (source ? 'removedAt')
      order by finished_at
      limit 1000
      for update skip locked
    )
    update ${generationJobs} g set source = g.source || jsonb_build_object('removedAt', ${now.toISOString()}::text) from due where g.id = due.id
    returning due.blob_name`);
  for (const row of [...unused, ...finished]) await files.remove(row.blob_name);
  return { unused: unused.length, finished: finished.length };
}
