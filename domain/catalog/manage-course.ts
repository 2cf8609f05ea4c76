import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { coursePrerequisites, courses, courseStaff } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { fillFreeSeats } from "../enrollment/fill-free-seats.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { CatalogErrorCode } from "./catalog.errors.js";
import { type CourseView, findCourse } from "./course-view.js";

/** What a course's staff set; the rest of a CourseView is kept by the system. */
export type CourseSettings = Pick<
  CourseView,
  | "code"
  | "title"
  | "description"
  | "language"
  | "tags"
  | "capacity"
  | "waitlistEnabled"
  | "waitlistMode"
  | "offerTtlHours"
  | "selfEnrollment"
  | "enrollmentOpensAt"
  | "enrollmentClosesAt"
  | "sequentialProgress"
  | "prerequisiteCourseIds"
  | "passPercent"
>;

function contradictions(s: Pick<CourseSettings, "enrollmentOpensAt" | "enrollmentClosesAt">): string | null {
  if (s.enrollmentOpensAt && s.enrollmentClosesAt && s.enrollmentClosesAt <= s.enrollmentOpensAt) {
    return "enrollmentClosesAt must be after enrollmentOpensAt";
  }
  return null;
}

/** Refuses prerequisites that are missing, the course itself, or that would make a cycle. */
async function checkPrerequisites(db: Executor, courseId: string, required: string[]): Promise<Result<null, "COURSE_NOT_FOUND" | "PREREQUISITE_CYCLE">> {
  if (required.includes(courseId)) return fail("PREREQUISITE_CYCLE", "A course cannot require itself.");
  if (required.length === 0) return ok(null);
  const found = await db.select({ id: courses.id }).from(courses).where(inArray(courses.id, required));
  const missing = required.filter((id) => !found.some((f) => f.id === id));
  if (missing.length) return fail("COURSE_NOT_FOUND", `No such prerequisite course: ${missing.join(", ")}`);
  // Walk what the required courses themselves require; reaching this course means a cycle.
  const cycle = await db.execute<{ found: boolean }>(sql`
    with recursive reach(id) as (
      select required_course_id from ${coursePrerequisites} where course_id in (${sql.join(required.map((r) => sql`${r}::uuid`), sql`, `)})
      union
      select p.required_course_id from ${coursePrerequisites} p join reach on p.course_id = reach.id
    )
    select exists(select 1 from reach where id = ${courseId}::uuid) as found`);
  if (cycle[0]?.found) return fail("PREREQUISITE_CYCLE", "These prerequisites would make a cycle.");
  return ok(null);
}

async function setPrerequisites(db: Executor, courseId: string, required: string[]): Promise<void> {
  await db.delete(coursePrerequisites).where(eq(coursePrerequisites.courseId, courseId));
  if (required.length) await db.insert(coursePrerequisites).values([...new Set(required)].map((r) => ({ courseId, requiredCourseId: r })));
}

/**
 * Refuses a code another course has (compared case-insensitively). The transaction-scoped lock on the code
 * makes two requests claiming one code wait for each other, so the second sees the first and answers 409.
 */
async function checkCodeFree(db: Executor, code: string | null | undefined, courseId: string): Promise<Result<null, "COURSE_CODE_TAKEN">> {
  if (!code) return ok(null);
  await db.execute(sql`select pg_advisory_xact_lock(hashtextextended('course-code:' || lower(${code}), 0))`);
  const [other] = await db
    .select({ id: courses.id })
    .from(courses)
    .where(and(sql`lower(${courses.code}) = lower(${code})`, sql`${courses.id} <> ${courseId}::uuid`));
  return other ? fail("COURSE_CODE_TAKEN", `Another course has the code ${code}.`) : ok(null);
}

/** A new draft course; its creator becomes its instructor. */
export async function createCourse(ctx: DomainContext, creatorId: string, input: CourseSettings): Promise<Result<CourseView, CatalogErrorCode>> {
  const problem = contradictions(input);
  if (problem) return fail("INVALID_COURSE_SETTINGS", problem);
  const id = ctx.newId();
  const prereqs = await checkPrerequisites(ctx.db, id, input.prerequisiteCourseIds);
  if (!prereqs.ok) return prereqs;
  const codeFree = await checkCodeFree(ctx.db, input.code, id);
  if (!codeFree.ok) return codeFree;
  const now = ctx.now();
  const { prerequisiteCourseIds, ...columns } = input;
  await ctx.db.insert(courses).values({ id, ...columns, createdByUserId: creatorId, createdAt: now, updatedAt: now });
  await setPrerequisites(ctx.db, id, prerequisiteCourseIds);
  await ctx.db.insert(courseStaff).values({ courseId: id, userId: creatorId, role: "instructor", addedByUserId: creatorId, createdAt: now });
  await recordAudit(ctx, { action: "course.staff-added", targetType: "course", targetId: id, details: { userId: creatorId, role: "instructor" } });
  await recordEvent(ctx, { type: "course.created", aggregateType: "course", aggregateId: id, courseId: id, data: { courseId: id, title: input.title, createdByUserId: creatorId } });
  return ok((await findCourse(ctx.db, id)) as CourseView);
}

/**
 * Applies a partial change. `expectedVersion` (from the client's If-Match) makes a concurrent update
 * fail with PRECONDITION_FAILED rather than silently overwrite. More capacity fills seats from the waitlist.
 */
export async function updateCourse(
  ctx: DomainContext,
  courseId: string,
  patch: Partial<CourseSettings>,
  expectedVersion?: number,
): Promise<Result<CourseView, CatalogErrorCode | "PRECONDITION_FAILED">> {
  const [current] = await ctx.db.select().from(courses).where(eq(courses.id, courseId)).for("update");
  if (!current) return fail("COURSE_NOT_FOUND");
  if (expectedVersion !== undefined && current.version !== expectedVersion) return fail("PRECONDITION_FAILED");
  if (current.status === "archived") return fail("COURSE_ARCHIVED", "Archived courses cannot change.");
  const problem = contradictions({ ...current, ...patch });
  if (problem) return fail("INVALID_COURSE_SETTINGS", problem);
  const { prerequisiteCourseIds, ...columns } = patch;
  const codeFree = await checkCodeFree(ctx.db, patch.code, courseId);
  if (!codeFree.ok) return codeFree;
  if (prerequisiteCourseIds) {
    const prereqs = await checkPrerequisites(ctx.db, courseId, prerequisiteCourseIds);
    if (!prereqs.ok) return prereqs;
    await setPrerequisites(ctx.db, courseId, prerequisiteCourseIds);
  }
  const version = current.version + 1;
  await ctx.db.update(courses).set({ ...columns, version, updatedAt: ctx.now() }).where(eq(courses.id, courseId));
  await recordEvent(ctx, { type: "course.updated", aggregateType: "course", aggregateId: courseId, courseId, data: { courseId, version, fields: Object.keys(patch).sort() } });
  if (current.status === "published" && ("capacity" in patch || "waitlistMode" in patch)) await fillFreeSeats(ctx, courseId);
  return ok((await findCourse(ctx.db, courseId)) as CourseView);
}

export async function publishCourse(ctx: DomainContext, courseId: string): Promise<Result<CourseView, CatalogErrorCode>> {
  const now = ctx.now();
  const [row] = await ctx.db
    .update(courses)
    .set({ status: "published", publishedAt: now, version: sql`${courses.version} + 1`, updatedAt: now })
    .where(and(eq(courses.id, courseId), eq(courses.status, "draft")))
    .returning();
  if (!row) {
    const course = await findCourse(ctx.db, courseId);
    if (!course) return fail("COURSE_NOT_FOUND");
    return fail("INVALID_STATE_TRANSITION", `A ${course.status} course cannot be published.`);
  }
  await recordEvent(ctx, { type: "course.published", aggregateType: "course", aggregateId: courseId, courseId, data: { courseId, title: row.title, publishedAt: now.toISOString() } });
  return ok((await findCourse(ctx.db, courseId)) as CourseView);
}

export async function archiveCourse(ctx: DomainContext, courseId: string): Promise<Result<CourseView, CatalogErrorCode>> {
  const now = ctx.now();
  const [row] = await ctx.db
    .update(courses)
    .set({ status: "archived", archivedAt: now, version: sql`${courses.version} + 1`, updatedAt: now })
    .where(and(eq(courses.id, courseId), inArray(courses.status, ["draft", "published"])))
    .returning();
  if (!row) return (await findCourse(ctx.db, courseId)) ? fail("INVALID_STATE_TRANSITION", "The course is archived already.") : fail("COURSE_NOT_FOUND");
  await recordEvent(ctx, { type: "course.archived", aggregateType: "course", aggregateId: courseId, courseId, data: { courseId, archivedAt: now.toISOString() } });
  return ok((await findCourse(ctx.db, courseId)) as CourseView);
}
