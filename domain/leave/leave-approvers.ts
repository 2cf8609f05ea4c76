import { sql, type SQL, type SQLWrapper } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courseStaff, enrollments, leaveApplications, leaveApprovers, leaveCourses, users } from "../db/schema/index.js";
import { staffSeesActiveLearner } from "../sections/staff-scope.js";

/**
 * Who decides a learner's leave (the model, README "Leave applications"): the instructors (not graders) of EVERY course
 * the leave touches, each within their section scope (no section rows, or the learner's own section), so one
 * decision never reaches a course its decider does not teach. A leave touching courses with no common instructor
 * goes to the administrators, as staff leave does; one touching no course, to the instructors of any of the
 * learner's active courses (it changes nothing there). The list is fixed at apply time, but a listed user decides
 * and reads only while that still holds (staff removed or re-scoped lose it; administrators must still be one).
 */

export interface Approver {
  userId: string;
  courseId: string | null;
}

/** An instructor row `cs` of course `cs.course_id` sees learner `learner` there: unscoped, or scoped to their section. */
const inScope = (learner: SQLWrapper | string) => staffSeesActiveLearner(sql`cs.course_id`, sql`cs.user_id`, learner);

/**
 * The instructors of a learner's active courses (only `courseIds` when given) within their section scope; with
 * `courseIds`, only those who teach every one of them. One statement.
 */
export async function instructorApprovers(db: Executor, learnerId: string, courseIds: readonly string[] | null): Promise<Approver[]> {
  const only = courseIds ? sql`and cs.course_id = any(${sql.param([...courseIds])}::uuid[])` : sql``;
  const every = courseIds ? sql`having count(distinct cs.course_id) = ${courseIds.length}` : sql``;
  const rows = await db.execute<{ user_id: string; course_id: string }>(sql`
    select cs.user_id, min(cs.course_id::text) as course_id
    from ${courseStaff} cs
    join ${enrollments} e on e.course_id = cs.course_id and e.user_id = ${learnerId} and e.status = 'active'
    where cs.role = 'instructor' and cs.user_id <> ${learnerId} ${only} and ${inScope(learnerId)}
    group by cs.user_id ${every}
    order by cs.user_id`);
  return rows.map((r) => ({ userId: r.user_id, courseId: r.course_id }));
}

/**
 * SQL: `userId` is, now, an approver of `applicationId` (either may be a column of the outer query): listed, active,
 * and still an instructor in scope of every course the application touches (and of the course that listed them),
 * or, listed as an administrator, still one.
 */
export function currentApprover(applicationId: SQLWrapper | string, userId: SQLWrapper | string): SQL {
  return sql`exists (
    select 1 from ${leaveApprovers} la join ${users} u on u.id = la.user_id
    where la.application_id = ${applicationId} and la.user_id = ${userId} and u.disabled_at is null and u.erased_at is null
      and case when la.course_id is null then u.is_admin else not exists (
        select 1 from (select lc.course_id from ${leaveCourses} lc where lc.application_id = la.application_id union select la.course_id) c
        where not exists (
          select 1 from ${courseStaff} cs where cs.course_id = c.course_id and cs.user_id = la.user_id and cs.role = 'instructor'
            and ${inScope(sql`(select x.applicant_user_id from ${leaveApplications} x where x.id = la.application_id)`)})) end)`;
}

/** Whether `userId` may decide (and read) `applicationId` as its approver now. */
export async function isCurrentApprover(db: Executor, applicationId: string, userId: string): Promise<boolean> {
  const [row] = await db.execute<{ ok: boolean }>(sql`select ${currentApprover(applicationId, userId)} as ok`);
  return row?.ok === true;
}

/** The application's listed approvers who still are (see currentApprover). */
export async function currentApproverIds(db: Executor, applicationId: string): Promise<string[]> {
  const rows = await db.execute<{ user_id: string }>(sql`
    select a.user_id from ${leaveApprovers} a where a.application_id = ${applicationId} and ${currentApprover(applicationId, sql`a.user_id`)} order by a.user_id`);
  return rows.map((r) => r.user_id);
}
