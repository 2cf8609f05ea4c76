import { and, asc, desc, eq, gt, inArray, lt, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courses, type EnrollmentStatus, enrollments, users } from "../db/schema/index.js";
import { toEnrollmentView, type EnrollmentView } from "./enrollment-view.js";

// Waitlist position for every row in one pass (null unless waitlisted).
const position = sql<number | null>`case when ${enrollments.status} = 'waitlisted' then (
  select count(*)::int from ${enrollments} w
  where w.course_id = ${enrollments.courseId} and w.status = 'waitlisted' and w.waitlist_seq <= ${enrollments.waitlistSeq}
) end`;

export interface RosterEntry extends EnrollmentView {
  displayName: string;
  email: string;
}

/** A course's enrollments for its staff, in waitlist (join) order; limit + 1 rows for pagination. */
export async function listCourseEnrollments(
  db: Executor,
  q: { courseId: string; statuses?: EnrollmentStatus[]; limit: number; afterSeq?: number; sectionIds?: readonly string[] | null },
): Promise<(RosterEntry & { seq: number })[]> {
  const rows = await db
    .select({ e: enrollments, displayName: users.displayName, email: users.email, position })
    .from(enrollments)
    .innerJoin(users, eq(users.id, enrollments.userId))
    .where(
      and(
        eq(enrollments.courseId, q.courseId),
        q.statuses?.length ? inArray(enrollments.status, q.statuses) : undefined,
        q.afterSeq !== undefined ? gt(enrollments.waitlistSeq, q.afterSeq) : undefined,
        // Only the learners placed in these sections (a scoped grader's view).
        q.sectionIds ? sql`${enrollments.sectionId} = any(${sql.param([...q.sectionIds])}::uuid[])` : undefined,
      ),
    )
    .orderBy(asc(enrollments.waitlistSeq))
    .limit(q.limit + 1);
  return rows.map((r) => ({ ...toEnrollmentView(r.e, r.position), displayName: r.displayName, email: r.email, seq: r.e.waitlistSeq }));
}

export interface MyEnrollment extends EnrollmentView {
  courseTitle: string;
}

/** The caller's enrollments, newest first; limit + 1 rows for pagination. */
export async function listMyEnrollments(db: Executor, q: { userId: string; limit: number; beforeId?: string }): Promise<MyEnrollment[]> {
  const rows = await db
    .select({ e: enrollments, courseTitle: courses.title, position })
    .from(enrollments)
    .innerJoin(courses, eq(courses.id, enrollments.courseId))
    .where(and(eq(enrollments.userId, q.userId), q.beforeId ? lt(enrollments.id, q.beforeId) : undefined))
    .orderBy(desc(enrollments.id))
    .limit(q.limit + 1);
  return rows.map((r) => ({ ...toEnrollmentView(r.e, r.position), courseTitle: r.courseTitle }));
}
