import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { assessments, attempts, enrollments, manualScores, users } from "../db/schema/index.js";
import { sectionsInView } from "../sections/staff-scope.js";
import { ok, type Result } from "../shared/result.js";

export interface QueuedSubmission {
  submissionId: string;
  assessmentId: string;
  assessmentTitle: string;
  userId: string;
  displayName: string;
  submittedAt: Date;
  /** Manual items answered and not scored yet. */
  waitingItems: string[];
}

/**
 * Submissions of the course waiting for a grader: answered essay or file items (of the items the attempt presents)
 * without a score, oldest first
 * (limit + 1 rows for pagination). With `sectionIds`, only learners placed in those sections (a scoped grader's).
 */
export async function gradingQueue(
  db: Executor,
  courseId: string,
  q: { limit: number; sectionIds: readonly string[] | null; after?: { submittedAt: string; submissionId: string } },
): Promise<QueuedSubmission[]> {
  const inSections = q.sectionIds
    ? sql`and exists (select 1 from ${enrollments} e where e.course_id = a.course_id and e.user_id = a.user_id and e.section_id = any(${sql.param([...q.sectionIds])}::uuid[]))`
    : sql``;
  // Ordered on the millisecond the cursor can carry, so a page boundary never repeats or skips a row.
  const at = sql`date_trunc('milliseconds', a.submitted_at)`;
  const after = q.after ? sql`and (${at}, a.id) > (${q.after.submittedAt}::timestamptz, ${q.after.submissionId}::uuid)` : sql``;
  const rows = await db.execute<{ submission_id: string; assessment_id: string; assessment_title: string; user_id: string; display_name: string; submitted_at: string; waiting_items: string[] }>(sql`
    select a.id as submission_id, a.assessment_id, s.title as assessment_title, a.user_id, u.display_name, a.submitted_at, w.items as waiting_items
    from ${attempts} a
    join ${assessments} s on s.id = a.assessment_id
    join ${users} u on u.id = a.user_id
    cross join lateral (
      select array_agg(i->>'id' order by i->>'id') as items from jsonb_array_elements(coalesce(a.items, s.items)) i
      where i->>'type' in ('essay', 'file') and coalesce(a.answers->>(i->>'id'), '') <> ''
        and not exists (select 1 from ${manualScores} m where m.submission_id = a.id and m.item_id = i->>'id')
    ) w
    where a.course_id = ${courseId} and a.status = 'submitted' and w.items is not null ${inSections} ${after}
    order by ${at}, a.id
    limit ${q.limit + 1}`);
  return rows.map((r) => ({
    submissionId: r.submission_id,
    assessmentId: r.assessment_id,
    assessmentTitle: r.assessment_title,
    userId: r.user_id,
    displayName: r.display_name,
    submittedAt: new Date(r.submitted_at),
    waitingItems: r.waiting_items,
  }));
}

/** The queue as a staff member sees it: the section asked for, or else their section scope. */
export async function gradingQueueSeenBy(
  db: Executor,
  courseId: string,
  viewer: { userId: string; isAdmin: boolean },
  q: { limit: number; section?: string; after?: { submittedAt: string; submissionId: string } },
): Promise<Result<QueuedSubmission[], "SECTION_NOT_FOUND" | "SECTION_OUT_OF_SCOPE">> {
  const sectionIds = await sectionsInView(db, courseId, viewer, q.section);
  if (!sectionIds.ok) return sectionIds;
  return ok(await gradingQueue(db, courseId, { limit: q.limit, sectionIds: sectionIds.value, ...(q.after ? { after: q.after } : {}) }));
}
