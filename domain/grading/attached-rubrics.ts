import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import type { RubricAttachments } from "../db/schema/assessment-json.js";
import { rubrics } from "../db/schema/index.js";
import type { ScoringRubrics } from "./score-items.js";

export const noRubrics: ScoringRubrics = { items: {}, whole: null };

/** The rubrics an assessment's attachments name, as they are now. One query; none when nothing is attached. */
export async function attachedRubrics(db: Executor, attachments: RubricAttachments): Promise<ScoringRubrics> {
  const ids = [...new Set([...Object.values(attachments.items), ...(attachments.whole ? [attachments.whole] : [])])];
  if (ids.length === 0) return noRubrics;
  const rows = await db
    .select({ id: rubrics.id, version: rubrics.version, title: rubrics.title, criteria: rubrics.criteria })
    .from(rubrics)
    .where(sql`${rubrics.id} = any(${sql.param(ids)}::uuid[])`);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const items = Object.fromEntries(Object.entries(attachments.items).flatMap(([itemId, rubricId]) => (byId.has(rubricId) ? [[itemId, byId.get(rubricId)!]] : [])));
  return { items, whole: attachments.whole ? (byId.get(attachments.whole) ?? null) : null };
}
