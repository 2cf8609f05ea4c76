import { and, asc, count, eq } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type CourseRole, courses, courseStaff, courseStaffSections, users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";

export interface StaffMember {
  userId: string;
  displayName: string;
  email: string;
  role: CourseRole;
  addedAt: Date;
}

export async function listStaff(db: Executor, courseId: string): Promise<StaffMember[]> {
  return db
    .select({ userId: courseStaff.userId, displayName: users.displayName, email: users.email, role: courseStaff.role, addedAt: courseStaff.createdAt })
    .from(courseStaff)
    .innerJoin(users, eq(users.id, courseStaff.userId))
    .where(eq(courseStaff.courseId, courseId))
    .orderBy(asc(courseStaff.createdAt), asc(courseStaff.userId));
}

async function instructorCount(db: Executor, courseId: string): Promise<number> {
  const [r] = await db.select({ n: count() }).from(courseStaff).where(and(eq(courseStaff.courseId, courseId), eq(courseStaff.role, "instructor")));
  return r?.n ?? 0;
}

/** Adds a staff member, or changes their role; a course always keeps an instructor. Audited. */
export async function setStaff(
  ctx: DomainContext,
  input: { courseId: string; userId: string; role: CourseRole },
): Promise<Result<StaffMember[], "COURSE_NOT_FOUND" | "USER_NOT_FOUND" | "LAST_INSTRUCTOR">> {
  const [course] = await ctx.db.select({ id: courses.id }).from(courses).where(eq(courses.id, input.courseId)).for("update");
  if (!course) return fail("COURSE_NOT_FOUND");
  const [user] = await ctx.db.select({ id: users.id }).from(users).where(eq(users.id, input.userId));
  if (!user) return fail("USER_NOT_FOUND");
  const [current] = await ctx.db
    .select({ role: courseStaff.role })
    .from(courseStaff)
    .where(and(eq(courseStaff.courseId, input.courseId), eq(courseStaff.userId, input.userId)));
  if (current?.role === input.role) return ok(await listStaff(ctx.db, input.courseId));
  if (current?.role === "instructor" && (await instructorCount(ctx.db, input.courseId)) <= 1) {
    return fail("LAST_INSTRUCTOR", "A course keeps at least one instructor.");
  }
  await ctx.db
    .insert(courseStaff)
    .values({ courseId: input.courseId, userId: input.userId, role: input.role, addedByUserId: ctx.actor.userId, createdAt: ctx.now() })
    .onConflictDoUpdate({ target: [courseStaff.courseId, courseStaff.userId], set: { role: input.role } });
  await recordAudit(ctx, { action: "course.staff-added", targetType: "course", targetId: input.courseId, details: { userId: input.userId, role: input.role, previousRole: current?.role ?? null } });
  await recordEvent(ctx, { type: "course.staff-added", aggregateType: "course", aggregateId: input.courseId, courseId: input.courseId, data: { courseId: input.courseId, userId: input.userId, role: input.role } });
  return ok(await listStaff(ctx.db, input.courseId));
}

export async function removeStaff(
  ctx: DomainContext,
  input: { courseId: string; userId: string },
): Promise<Result<null, "COURSE_NOT_FOUND" | "USER_NOT_FOUND" | "LAST_INSTRUCTOR">> {
  const [course] = await ctx.db.select({ id: courses.id }).from(courses).where(eq(courses.id, input.courseId)).for("update");
  if (!course) return fail("COURSE_NOT_FOUND");
  const [current] = await ctx.db
    .select({ role: courseStaff.role })
    .from(courseStaff)
    .where(and(eq(courseStaff.courseId, input.courseId), eq(courseStaff.userId, input.userId)));
  if (!current) return fail("USER_NOT_FOUND", "This user is not on the course's staff.");
  if (current.role === "instructor" && (await instructorCount(ctx.db, input.courseId)) <= 1) {
    return fail("LAST_INSTRUCTOR", "A course keeps at least one instructor.");
  }
  await ctx.db.delete(courseStaff).where(and(eq(courseStaff.courseId, input.courseId), eq(courseStaff.userId, input.userId)));
  // A section scope belongs to the staff role: someone added back later starts with the whole course again.
  await ctx.db.delete(courseStaffSections).where(and(eq(courseStaffSections.courseId, input.courseId), eq(courseStaffSections.userId, input.userId)));
  await recordAudit(ctx, { action: "course.staff-removed", targetType: "course", targetId: input.courseId, details: { userId: input.userId, role: current.role } });
  await recordEvent(ctx, { type: "course.staff-removed", aggregateType: "course", aggregateId: input.courseId, courseId: input.courseId, data: { courseId: input.courseId, userId: input.userId } });
  return ok(null);
}
