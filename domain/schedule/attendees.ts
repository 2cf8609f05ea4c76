import { and, eq, gt, inArray, isNull, lt, ne, or, type SQLWrapper, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { classSessions, courseStaff, enrollments } from "../db/schema/index.js";
import { staffCoversSection } from "../sections/staff-scope.js";

/** A session as the schedule, attendance and leave parts pass it around. */
export interface SessionRef {
  id: string;
  courseId: string;
  sectionId: string | null;
  startsAt: Date;
  endsAt: Date;
  status: "scheduled" | "cancelled";
}

const ref = {
  id: classSessions.id,
  courseId: classSessions.courseId,
  sectionId: classSessions.sectionId,
  startsAt: classSessions.startsAt,
  endsAt: classSessions.endsAt,
  status: classSessions.status,
};

/** A session concerns an active learner of its course when it is for the whole course or for the learner's section. */
const forLearnerSection = or(isNull(classSessions.sectionId), eq(classSessions.sectionId, enrollments.sectionId));

/**
 * Whether the user is a learner expected at a class_sessions row, as SQL (active enrollment, section matching). The
 * user is an id, or a column of the outer query (the users a cancellation email goes to).
 */
export const learnerAttends = (userId: string | SQLWrapper) => sql`exists (select 1 from ${enrollments} e where e.course_id = ${classSessions.courseId} and e.user_id = ${userId}
  and e.status = 'active' and (${classSessions.sectionId} is null or ${classSessions.sectionId} = e.section_id))`;

/**
 * The sessions a learner is expected at that overlap [from, to): their active enrollments' courses, whole-course
 * sessions and their own section's. Cancelled ones are included only when asked (the schedule shows them struck out).
 */
export async function learnerSessions(db: Executor, userId: string, range: { from: Date; to: Date }, opts: { includeCancelled?: boolean } = {}): Promise<SessionRef[]> {
  return db
    .select(ref)
    .from(classSessions)
    .innerJoin(enrollments, and(eq(enrollments.courseId, classSessions.courseId), eq(enrollments.userId, userId), eq(enrollments.status, "active")))
    .where(and(lt(classSessions.startsAt, range.to), gt(classSessions.endsAt, range.from), forLearnerSection, opts.includeCancelled ? undefined : ne(classSessions.status, "cancelled")))
    .orderBy(classSessions.startsAt, classSessions.id);
}

/**
 * Whether the user works at a class_sessions row, as SQL: they are on its course's staff now (a former staff member,
 * even one still named as its lead, sees nothing), and it is within their section scope (none means the whole course)
 * or they lead it.
 */
export const staffWorksAt = (userId: string) => sql`(exists (select 1 from ${courseStaff} cs where cs.course_id = ${classSessions.courseId} and cs.user_id = ${userId})
  and (${classSessions.staffUserId} = ${userId} or ${staffCoversSection(classSessions.courseId, userId, classSessions.sectionId)}))`;

/**
 * The sessions a staff member works at that overlap [from, to) (staffWorksAt): their courses' within their section
 * scope, and those they lead on a course whose staff they still are.
 */
export async function staffSessions(db: Executor, userId: string, range: { from: Date; to: Date }, opts: { includeCancelled?: boolean } = {}): Promise<SessionRef[]> {
  return db
    .select(ref)
    .from(classSessions)
    .where(and(lt(classSessions.startsAt, range.to), gt(classSessions.endsAt, range.from), staffWorksAt(userId), opts.includeCancelled ? undefined : ne(classSessions.status, "cancelled")))
    .orderBy(classSessions.startsAt, classSessions.id);
}

/** The learners expected at these sessions (active enrollments, section matching): session id → user ids. */
export async function sessionLearners(db: Executor, sessionIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(sessionIds.map((id) => [id, []]));
  if (sessionIds.length === 0) return out;
  const rows = await db
    .select({ sessionId: classSessions.id, userId: enrollments.userId })
    .from(classSessions)
    .innerJoin(enrollments, and(eq(enrollments.courseId, classSessions.courseId), eq(enrollments.status, "active")))
    .where(and(inArray(classSessions.id, [...sessionIds]), forLearnerSection))
    .orderBy(enrollments.userId);
  for (const r of rows) out.get(r.sessionId)?.push(r.userId);
  return out;
}

/** Whether one learner is expected at a session (active enrollment, section matching): one indexed lookup. */
export async function isExpectedAt(db: Executor, sessionId: string, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ one: sql<number>`1` })
    .from(classSessions)
    .innerJoin(enrollments, and(eq(enrollments.courseId, classSessions.courseId), eq(enrollments.userId, userId), eq(enrollments.status, "active")))
    .where(and(eq(classSessions.id, sessionId), forLearnerSection))
    .limit(1);
  return row !== undefined;
}
