import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { courses, enrollments } from "../db/schema/index.js";
import { recordEvents } from "../outbox/record-events.js";
import type { DomainContext } from "../shared/context.js";
import { paymentDueAt, requiresPaymentFirst } from "../finance/fees.js";
import { lockCourse } from "./course-lock.js";
import { holdSeatsForPayment } from "./hold-seats.js";

/**
 * Gives free seats to the first in line, in FIFO order: enrolled at once (`auto`; `pending-payment` when the
 * course asks for payment first) or offered the seat until the offer expires (`offer`; an open offer holds the seat). Runs under the course lock, in the caller's
 * transaction. Returns how many learners moved.
 */
export async function fillFreeSeats(ctx: DomainContext, courseId: string): Promise<number> {
  const course = await lockCourse(ctx.db, courseId);
  if (!course || course.status !== "published") return 0;
  const free = course.capacity === null ? Number.MAX_SAFE_INTEGER : course.capacity - course.seatsTaken;
  if (free <= 0) return 0;
  const next = await ctx.db
    .select()
    .from(enrollments)
    .where(and(eq(enrollments.courseId, courseId), eq(enrollments.status, "waitlisted")))
    .orderBy(asc(enrollments.waitlistSeq))
    .limit(Math.min(free, 10_000));
  if (next.length === 0) return 0;
  const now = ctx.now();
  const holdUntil = course.waitlistMode === "auto" && (await requiresPaymentFirst(ctx, courseId)) ? paymentDueAt(ctx, now) : null;
  const ids = next.map((r) => r.id);
  if (holdUntil) {
    await holdSeatsForPayment(ctx, courseId, next, holdUntil);
  } else if (course.waitlistMode === "auto") {
    await ctx.db.update(enrollments).set({ status: "active", enrolledAt: now, updatedAt: now }).where(inArray(enrollments.id, ids));
    await recordEvents(
      ctx,
      next.map((row) => ({
        type: "enrollment.promoted" as const,
        aggregateType: "enrollment",
        aggregateId: row.id,
        courseId,
        data: { enrollmentId: row.id, courseId, userId: row.userId, from: "waitlisted" as const },
      })),
    );
  } else {
    const offerExpiresAt = new Date(now.getTime() + course.offerTtlHours * 3_600_000);
    await ctx.db.update(enrollments).set({ status: "offered", offeredAt: now, offerExpiresAt, updatedAt: now }).where(inArray(enrollments.id, ids));
    await recordEvents(
      ctx,
      next.map((row) => ({
        type: "enrollment.offered" as const,
        aggregateType: "enrollment",
        aggregateId: row.id,
        courseId,
        data: { enrollmentId: row.id, courseId, userId: row.userId, offerExpiresAt: offerExpiresAt.toISOString() },
      })),
    );
  }
  await ctx.db.update(courses).set({ seatsTaken: sql`${courses.seatsTaken} + ${next.length}` }).where(eq(courses.id, courseId));
  return next.length;
}
