import { and, count, eq, inArray, isNotNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { coursePrerequisites, courses, type EnrollmentSource, enrollments, liveStatuses, users } from "../db/schema/index.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { lockCourse } from "./course-lock.js";
import type { EnrollmentErrorCode } from "./enrollment.errors.js";
import { type EnrollmentView, enrollmentView, toEnrollmentView } from "./enrollment-view.js";

export interface EnrollRequest {
  courseId: string;
  userId: string;
  /**
   * `self`: published courses, inside the enrollment window, with prerequisites. `invitation`: the
   * invitation stands in for the window. `staff`: staff and admins override the window and prerequisites,
   * never the capacity.
   */
  source: EnrollmentSource;
}

/** Prerequisite courses the learner has not completed, with their titles. */
async function missingPrerequisites(db: Executor, courseId: string, userId: string) {
  return db
    .select({ courseId: courses.id, title: courses.title })
    .from(coursePrerequisites)
    .innerJoin(courses, eq(courses.id, coursePrerequisites.requiredCourseId))
    .where(
      and(
        eq(coursePrerequisites.courseId, courseId),
        sql`not exists (select 1 from ${enrollments} e where e.course_id = ${coursePrerequisites.requiredCourseId} and e.user_id = ${userId} and e.completed_at is not null)`,
      ),
    );
}

/**
 * Enrolls a learner, or puts them in line when the course is full and has a waitlist. Runs under the
 * course row lock in the caller's transaction: concurrent enrollments never overbook a course and get
 * dense, unique waitlist positions.
 */
export async function enroll(ctx: DomainContext, req: EnrollRequest): Promise<Result<EnrollmentView, EnrollmentErrorCode>> {
  const course = await lockCourse(ctx.db, req.courseId);
  if (!course) return fail("COURSE_NOT_FOUND");
  if (course.status === "archived") return fail("COURSE_ARCHIVED", "The course is archived.");
  const now = ctx.now();
  if (req.source !== "staff") {
    if (course.status !== "published") return fail("COURSE_NOT_PUBLISHED", "The course is not open yet.");
  }
  if (req.source === "self") {
    if (!course.selfEnrollment) return fail("ENROLLMENT_CLOSED", "This course takes enrollments from its staff or by invitation only.");
    if (course.enrollmentOpensAt && now < course.enrollmentOpensAt) {
      return fail("ENROLLMENT_CLOSED", "Enrollment has not opened yet.", { opensAt: course.enrollmentOpensAt.toISOString() });
    }
    if (course.enrollmentClosesAt && now >= course.enrollmentClosesAt) {
      return fail("ENROLLMENT_CLOSED", "Enrollment has closed.", { closedAt: course.enrollmentClosesAt.toISOString() });
    }
  }
  const [user] = await ctx.db.select({ id: users.id }).from(users).where(eq(users.id, req.userId));
  if (!user) return fail("USER_NOT_FOUND");

  const [existing] = await ctx.db
    .select()
    .from(enrollments)
    .where(and(eq(enrollments.courseId, req.courseId), eq(enrollments.userId, req.userId), inArray(enrollments.status, [...liveStatuses])));
  if (existing) {
    const view = await enrollmentView(ctx.db, existing);
    return fail("ALREADY_ENROLLED", `You are ${existing.status} in this course.`, { status: view.status, position: view.position });
  }
  if (req.source !== "staff") {
    const missing = await missingPrerequisites(ctx.db, req.courseId, req.userId);
    if (missing.length) {
      return fail("PREREQUISITES_MISSING", `Complete first: ${missing.map((m) => m.title).join(", ")}.`, { missing });
    }
  }

  const hasSeat = course.capacity === null || course.seatsTaken < course.capacity;
  if (!hasSeat && !course.waitlistEnabled) return fail("COURSE_FULL", "The course is full.");
  const id = ctx.newId();
  const [row] = await ctx.db
    .insert(enrollments)
    .values({
      id,
      courseId: req.courseId,
      userId: req.userId,
      source: req.source,
      status: hasSeat ? "active" : "waitlisted",
      ...(hasSeat ? { enrolledAt: now } : { waitlistedAt: now }),
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (!row) throw new Error("enrollment insert returned nothing");
  const ref = { enrollmentId: id, courseId: req.courseId, userId: req.userId };
  if (hasSeat) {
    await ctx.db.update(courses).set({ seatsTaken: sql`${courses.seatsTaken} + 1` }).where(eq(courses.id, req.courseId));
    await recordEvent(ctx, { type: "enrollment.created", aggregateType: "enrollment", aggregateId: id, courseId: req.courseId, data: { ...ref, source: req.source } });
    return ok(toEnrollmentView(row, null));
  }
  // Under the lock every earlier joiner is counted, so positions are 1..n without gaps or repeats.
  const [line] = await ctx.db
    .select({ n: count() })
    .from(enrollments)
    .where(and(eq(enrollments.courseId, req.courseId), eq(enrollments.status, "waitlisted")));
  const position = line?.n ?? 1;
  await recordEvent(ctx, { type: "enrollment.waitlisted", aggregateType: "enrollment", aggregateId: id, courseId: req.courseId, data: { ...ref, position } });
  return ok(toEnrollmentView(row, position));
}

/** For prerequisites and tests: courses the learner has completed. */
export async function completedCourseIds(db: Executor, userId: string): Promise<string[]> {
  const rows = await db
    .select({ courseId: enrollments.courseId })
    .from(enrollments)
    .where(and(eq(enrollments.userId, userId), isNotNull(enrollments.completedAt)));
  return rows.map((r) => r.courseId);
}
