import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import type { RubricAttachments } from "../db/schema/assessment-json.js";
import { rubrics } from "../db/schema/index.js";
import type { ScoringRubric } from "./rubric-score.js";
import { noRubrics, type ScoringRubrics } from "./score-items.js";

/**
 * These rubrics as they are now, by id. One query. `lock`: `for share` in id order (a grader's scoring, so that a
 * change of one waits for it to commit).
 */
export async function scoringRubricsById(db: Executor, ids: string[], { lock = false }: { lock?: boolean } = {}): Promise<Map<string, ScoringRubric>> {
  const query = db
    .select({ id: rubrics.id, version: rubrics.version, title: rubrics.title, criteria: rubrics.criteria })
    .from(rubrics)
    .where(sql`${rubrics.id} = any(${sql.param(ids)}::uuid[])`);
  const rows = lock ? await query.orderBy(rubrics.id).for("share") : await query;
  return new Map(rows.map((r) => [r.id, r]));
}

/** The rubrics an assessment's attachments name, as they are now. One query; none when nothing is attached. */
export async function attachedRubrics(db: Executor, attachments: RubricAttachments): Promise<ScoringRubrics> {
  const ids = [...new Set([...Object.values(attachments.items), ...(attachments.whole ? [attachments.whole] : [])])];
  if (ids.length === 0) return noRubrics;
  const byId = await scoringRubricsById(db, ids);
  const items = Object.fromEntries(Object.entries(attachments.items).flatMap(([itemId, rubricId]) => (byId.has(rubricId) ? [[itemId, byId.get(rubricId)!]] : [])));
  return { items, whole: attachments.whole ? (byId.get(attachments.whole) ?? null) : null };
}
