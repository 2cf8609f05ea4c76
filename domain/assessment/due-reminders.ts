import { sql } from "drizzle-orm";
import { dueReminders } from "../db/schema/index.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";

/**
 * Reminds each active learner of work due in the next `windowHours` that they have not submitted, once
 * per learner and assessment (the reminder row is the record; a second run finds it). Safe to run late.
 */
export async function sendDueReminders(ctx: DomainContext, windowHours: number): Promise<number> {
  const now = ctx.now();
  const until = new Date(now.getTime() + windowHours * 3_600_000);
  const due = await ctx.db.execute<{ assessment_id: string; course_id: string; user_id: string; due_at: string }>(sql`
    select a.id as assessment_id, a.course_id, e.user_id, coalesce(x.due_at, a.due_at) as due_at
    from assessments a
    join enrollments e on e.course_id = a.course_id and e.status = 'active'
    left join assessment_extensions x on x.assessment_id = a.id and x.user_id = e.user_id
    where coalesce(x.due_at, a.due_at) > ${now.toISOString()}::timestamptz
      and coalesce(x.due_at, a.due_at) <= ${until.toISOString()}::timestamptz
      and not exists (select 1 from attempts t where t.assessment_id = a.id and t.user_id = e.user_id and t.status = 'submitted')
      and not exists (select 1 from due_reminders r where r.assessment_id = a.id and r.user_id = e.user_id)
    limit 5000`);
  let sent = 0;
  for (const row of due) {
    const inserted = await ctx.db.insert(dueReminders).values({ assessmentId: row.assessment_id, userId: row.user_id, sentAt: now }).onConflictDoNothing().returning();
    if (inserted.length === 0) continue;
    await recordEvent(ctx, {
      type: "reminder.due",
      aggregateType: "assessment",
      aggregateId: row.assessment_id,
      courseId: row.course_id,
      data: { assessmentId: row.assessment_id, courseId: row.course_id, userId: row.user_id, dueAt: new Date(row.due_at).toISOString() },
    });
    sent += 1;
  }
  return sent;
}
