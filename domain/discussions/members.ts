import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { fail, ok, type Result } from "../shared/result.js";

/** SQL: user `userId` (a value or a column) takes part in course `courseId`: an active learner or on its staff. */
export const isCourseMemberSql = (courseId: unknown, userId: unknown) => sql`(
  exists (select 1 from enrollments e where e.course_id = ${courseId} and e.user_id = ${userId} and e.status = 'active')
  or exists (select 1 from course_staff s where s.course_id = ${courseId} and s.user_id = ${userId}))`;

/** The mentioned users must all take part in the course (an erased account does not); otherwise nothing is stored. */
export async function checkMentions(db: Executor, courseId: string, mentions: readonly string[]): Promise<Result<string[], "MENTION_NOT_MEMBER">> {
  const wanted = [...new Set(mentions)];
  if (wanted.length === 0) return ok([]);
  const rows = await db.execute<{ id: string }>(sql`
    select m.id from unnest(${sql.param(wanted)}::uuid[]) as m(id)
    where not exists (select 1 from users u where u.id = m.id and u.erased_at is null and ${isCourseMemberSql(courseId, sql`u.id`)})`);
  if (rows.length > 0) {
    const notMembers = rows.map((r) => r.id);
    return fail("MENTION_NOT_MEMBER", "Only members of the course (its active learners and staff) can be mentioned.", { notMembers });
  }
  return ok(wanted);
}

export interface MemberEntry {
  id: string;
  displayName: string;
}

const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The mention picker: members whose display name contains `q` (case-insensitive), by name, at most `limit`. Driven
 * by the course's enrollments and staff (their course indexes), then their users by id: never a scan of all users.
 */
export async function courseMembers(db: Executor, courseId: string, q: string, limit: number): Promise<MemberEntry[]> {
  const rows = await db.execute<{ id: string; display_name: string }>(sql`
    select u.id, u.display_name
    from (
      select e.user_id from enrollments e where e.course_id = ${courseId} and e.status = 'active'
      union
      select s.user_id from course_staff s where s.course_id = ${courseId}
    ) m
    join users u on u.id = m.user_id
    where u.erased_at is null and u.disabled_at is null and u.display_name ilike ${likePattern(q.trim())}
    order by u.display_name, u.id
    limit ${limit}`);
  return rows.map((r) => ({ id: r.id, displayName: r.display_name }));
}
