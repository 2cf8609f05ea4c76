import { and, asc, eq, sql, type SQL, type SQLWrapper } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courses, courseStaff, courseStaffSections, enrollments, sections } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { SectionErrorCode } from "./sections.errors.js";
import type { CourseViewer } from "./viewer.js";

/** The sections a staff member is scoped to; null when they see the whole course (no rows). */
export async function staffSectionScope(db: Executor, courseId: string, userId: string): Promise<string[] | null> {
  const rows = await db
    .select({ sectionId: courseStaffSections.sectionId })
    .from(courseStaffSections)
    .where(and(eq(courseStaffSections.courseId, courseId), eq(courseStaffSections.userId, userId)))
    .orderBy(asc(courseStaffSections.sectionId));
  return rows.length ? rows.map((r) => r.sectionId) : null;
}

/** The sections a viewer's staff views cover when none is asked for: their scope; null (the whole course) for admins. */
export async function viewerScope(db: Executor, courseId: string, viewer: Pick<CourseViewer, "userId" | "isAdmin">): Promise<string[] | null> {
  return viewer.isAdmin ? null : staffSectionScope(db, courseId, viewer.userId);
}

/**
 * Which sections a staff view (gradebook, progress roster, analytics) covers: the one asked for, or else the
 * viewer's scope. Null means the whole course. A scoped viewer asking for another section is refused.
 */
export async function sectionsInView(
  db: Executor,
  courseId: string,
  viewer: Pick<CourseViewer, "userId" | "isAdmin">,
  requested: string | undefined,
): Promise<Result<string[] | null, "SECTION_NOT_FOUND" | "SECTION_OUT_OF_SCOPE">> {
  const scope = await viewerScope(db, courseId, viewer);
  if (requested === undefined) return ok(scope);
  const [section] = await db.select({ id: sections.id }).from(sections).where(and(eq(sections.id, requested), eq(sections.courseId, courseId)));
  if (!section) return fail("SECTION_NOT_FOUND", "The course has no such section.");
  if (scope && !scope.includes(requested)) return fail("SECTION_OUT_OF_SCOPE", "You are scoped to other sections of this course.");
  return ok([requested]);
}

/**
 * Scopes a staff member to sections of the course (an empty list: the whole course again). Replaces the
 * previous scope under the course row lock, so two changes do not interleave. Audited.
 */
export async function setStaffSections(
  ctx: DomainContext,
  input: { courseId: string; userId: string; sectionIds: string[] },
): Promise<Result<string[], SectionErrorCode>> {
  // `no key update`: excludes deleteSection and another scope change, not the inserts that merely refer to the course.
  const [course] = await ctx.db.select({ id: courses.id }).from(courses).where(eq(courses.id, input.courseId)).for("no key update");
  if (!course) return fail("COURSE_NOT_FOUND");
  const [staff] = await ctx.db
    .select({ role: courseStaff.role })
    .from(courseStaff)
    .where(and(eq(courseStaff.courseId, input.courseId), eq(courseStaff.userId, input.userId)));
  if (!staff) return fail("NOT_COURSE_STAFF", "This user is not on the course's staff.");
  const wanted = [...new Set(input.sectionIds)].sort();
  if (wanted.length) {
    const found = await ctx.db
      .select({ id: sections.id })
      .from(sections)
      .where(and(eq(sections.courseId, input.courseId), sql`${sections.id} = any(${sql.param(wanted)}::uuid[])`));
    const missing = wanted.filter((id) => !found.some((f) => f.id === id));
    if (missing.length) return fail("SECTION_NOT_FOUND", `The course has no section ${missing.join(", ")}.`);
  }
  const before = (await staffSectionScope(ctx.db, input.courseId, input.userId)) ?? [];
  await ctx.db.delete(courseStaffSections).where(and(eq(courseStaffSections.courseId, input.courseId), eq(courseStaffSections.userId, input.userId)));
  if (wanted.length) {
    const now = ctx.now();
    await ctx.db.insert(courseStaffSections).values(wanted.map((sectionId) => ({ courseId: input.courseId, userId: input.userId, sectionId, createdAt: now })));
  }
  if (before.join() !== wanted.join()) {
    await recordAudit(ctx, {
      action: "course.staff-sections-changed",
      targetType: "course",
      targetId: input.courseId,
      details: { userId: input.userId, role: staff.role, sectionIds: wanted, previousSectionIds: before },
    });
  }
  return ok(wanted);
}

/**
 * Whether a staff member's section scope covers a learner of the course: always when they are not scoped; else
 * when the learner's enrollment is in one of their sections. Whoever has no scope rows (admins, learners reading
 * their own work) passes.
 */
export async function inStaffScope(db: Executor, courseId: string, staffUserId: string, learnerUserId: string): Promise<boolean> {
  const [row] = await db.execute<{ covered: boolean }>(sql`
    select not exists (select 1 from ${courseStaffSections} where course_id = ${courseId} and user_id = ${staffUserId})
      or exists (select 1 from enrollments e join ${courseStaffSections} s on s.section_id = e.section_id and s.course_id = e.course_id and s.user_id = ${staffUserId}
        where e.course_id = ${courseId} and e.user_id = ${learnerUserId}) as covered`);
  return row?.covered === true;
}

/**
 * SQL: staff member `staffUserId` of course `courseId` (values or columns of the outer query) sees learner
 * `learnerUserId` there: scoped to no section (the whole course), or to the section of the learner's ACTIVE
 * enrollment (unlike inStaffScope, which reads any enrollment). For set-based queries over staff rows.
 */
export function staffSeesActiveLearner(courseId: SQLWrapper | string, staffUserId: SQLWrapper | string, learnerUserId: SQLWrapper | string): SQL {
  return sql`(not exists (select 1 from ${courseStaffSections} s where s.course_id = ${courseId} and s.user_id = ${staffUserId})
    or exists (select 1 from ${courseStaffSections} s join ${enrollments} e on e.course_id = s.course_id and e.section_id = s.section_id and e.status = 'active'
      where s.course_id = ${courseId} and s.user_id = ${staffUserId} and e.user_id = ${learnerUserId}))`;
}

/**
 * SQL: staff member `staffUserId` of course `courseId` covers section `sectionId` (values or columns of the outer
 * query; a parameter for the section needs its `::uuid` cast): a whole-course target (no section) always, else
 * when they are scoped to no section or to that one. For set-based queries over staff rows or section targets.
 */
export function staffCoversSection(courseId: SQLWrapper | string, staffUserId: SQLWrapper | string, sectionId: SQLWrapper): SQL {
  return sql`(${sectionId} is null
    or not exists (select 1 from ${courseStaffSections} x where x.course_id = ${courseId} and x.user_id = ${staffUserId})
    or exists (select 1 from ${courseStaffSections} x where x.course_id = ${courseId} and x.user_id = ${staffUserId} and x.section_id = ${sectionId}))`;
}

/** The learners (any enrollment status) placed in any of these sections: what a section filter keeps. */
export async function learnersInSections(db: Executor, courseId: string, sectionIds: readonly string[]): Promise<Set<string>> {
  if (sectionIds.length === 0) return new Set();
  const rows = await db.execute<{ user_id: string }>(sql`
    select distinct user_id from enrollments where course_id = ${courseId} and section_id = any(${sql.param([...sectionIds])}::uuid[])`);
  return new Set(rows.map((r) => r.user_id));
}

/**
 * A submission as a staff member may see it (its grading status): not found when there is no such submission or
 * its learner is outside the viewer's section scope (admins are never scoped).
 */
export async function submissionSeenBy(
  db: Executor,
  submissionId: string,
  viewer: Pick<CourseViewer, "userId" | "isAdmin">,
): Promise<Result<{ submissionId: string }, "ATTEMPT_NOT_FOUND">> {
  const [row] = await db.execute<{ course_id: string; user_id: string }>(sql`select course_id, user_id from attempts where id = ${submissionId}`);
  if (!row || !(viewer.isAdmin || (await inStaffScope(db, row.course_id, viewer.userId, row.user_id)))) return fail("ATTEMPT_NOT_FOUND", "No such submission.");
  return ok({ submissionId });
}
