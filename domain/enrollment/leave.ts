import { and, eq, inArray, sql } from "drizzle-orm";
import { courses, enrollments, liveStatuses } from "../db/schema/index.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { paymentDueAt, requiresPaymentFirst } from "../finance/fees.js";
import { lockCourse } from "./course-lock.js";
import type { EnrollmentErrorCode } from "./enrollment.errors.js";
import { type EnrollmentView, enrollmentView } from "./enrollment-view.js";
import { endDueSeats } from "./end-due-seats.js";
import { fillFreeSeats } from "./fill-free-seats.js";
import { holdSeatsForPayment } from "./hold-seats.js";

async function liveEnrollment(ctx: DomainContext, courseId: string, userId: string) {
  const [row] = await ctx.db
    .select()
    .from(enrollments)
    .where(and(eq(enrollments.courseId, courseId), eq(enrollments.userId, userId), inArray(enrollments.status, [...liveStatuses])));
  return row ?? null;
}

/** A learner drops, or staff remove them; a freed seat goes to the next in line in the same transaction. */
export async function leaveCourse(
  ctx: DomainContext,
  input: { courseId: string; userId: string; by: "learner" | "staff" },
): Promise<Result<EnrollmentView, EnrollmentErrorCode>> {
  if (!(await lockCourse(ctx.db, input.courseId))) return fail("COURSE_NOT_FOUND");
  const row = await liveEnrollment(ctx, input.courseId, input.userId);
  if (!row) return fail("ENROLLMENT_NOT_FOUND", "There is no enrollment to end.");
  const now = ctx.now();
  const previousStatus = row.status as (typeof liveStatuses)[number];
  const [ended] = await ctx.db
    .update(enrollments)
    .set({ status: input.by === "learner" ? "dropped" : "removed", endedAt: now, updatedAt: now })
    .where(eq(enrollments.id, row.id))
    .returning();
  await recordEvent(ctx, {
    type: "enrollment.dropped",
    aggregateType: "enrollment",
    aggregateId: row.id,
    courseId: input.courseId,
    data: { enrollmentId: row.id, courseId: input.courseId, userId: input.userId, by: input.by, previousStatus },
  });
  if (previousStatus !== "waitlisted") {
    await ctx.db.update(courses).set({ seatsTaken: sql`${courses.seatsTaken} - 1` }).where(eq(courses.id, input.courseId));
    await fillFreeSeats(ctx, input.courseId);
  }
  return ok(await enrollmentView(ctx.db, ended ?? row));
}

/** The learner takes the seat they were offered (held for payment first when the course asks for it). */
export async function acceptOffer(ctx: DomainContext, courseId: string, userId: string): Promise<Result<EnrollmentView, EnrollmentErrorCode>> {
  if (!(await lockCourse(ctx.db, courseId))) return fail("COURSE_NOT_FOUND");
  const row = await liveEnrollment(ctx, courseId, userId);
  if (!row || row.status !== "offered") return fail("NO_OPEN_OFFER", "You have no open offer for this course.");
  const now = ctx.now();
  if (row.offerExpiresAt && row.offerExpiresAt <= now) return fail("OFFER_EXPIRED", "The offer has expired.");
  if (await requiresPaymentFirst(ctx, courseId)) {
    // The offered seat is held for payment, like a seat taken directly (the invoice is issued from the event).
    const [held] = await holdSeatsForPayment(ctx, courseId, [row], paymentDueAt(ctx, now));
    return ok(await enrollmentView(ctx.db, held ?? row));
  }
  const [active] = await ctx.db.update(enrollments).set({ status: "active", enrolledAt: now, updatedAt: now }).where(eq(enrollments.id, row.id)).returning();
  await recordEvent(ctx, { type: "enrollment.promoted", aggregateType: "enrollment", aggregateId: row.id, courseId, data: { enrollmentId: row.id, courseId, userId, from: "offered" } });
  return ok(await enrollmentView(ctx.db, active ?? row));
}

/** The learner turns the offer down; the seat goes to the next in line. */
export async function declineOffer(ctx: DomainContext, courseId: string, userId: string): Promise<Result<EnrollmentView, EnrollmentErrorCode>> {
  if (!(await lockCourse(ctx.db, courseId))) return fail("COURSE_NOT_FOUND");
  const row = await liveEnrollment(ctx, courseId, userId);
  if (!row || row.status !== "offered") return fail("NO_OPEN_OFFER", "You have no open offer for this course.");
  const now = ctx.now();
  const [declined] = await ctx.db.update(enrollments).set({ status: "offer-declined", endedAt: now, updatedAt: now }).where(eq(enrollments.id, row.id)).returning();
  await ctx.db.update(courses).set({ seatsTaken: sql`${courses.seatsTaken} - 1` }).where(eq(courses.id, courseId));
  await recordEvent(ctx, { type: "enrollment.offer-declined", aggregateType: "enrollment", aggregateId: row.id, courseId, data: { enrollmentId: row.id, courseId, userId } });
  await fillFreeSeats(ctx, courseId);
  return ok(await enrollmentView(ctx.db, declined ?? row));
}

/**
 * The waitlist timer: ends offers that were not answered in time and offers the seats to the next in line.
 * Safe to run twice or late: an expired offer is expired once, under its course's lock.
 */
export async function expireOffers(ctx: DomainContext): Promise<{ expired: number; courses: number }> {
  const { ended, courses } = await endDueSeats(ctx, "offer");
  return { expired: ended, courses };
}
