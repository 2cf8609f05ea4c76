import { and, asc, eq, sql } from "drizzle-orm";
import { courses, enrollments } from "../db/schema/index.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { paymentDueAt, requiresPaymentFirst } from "../finance/fees.js";
import { lockCourse } from "./course-lock.js";

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
  for (const row of next) {
    const ref = { enrollmentId: row.id, courseId, userId: row.userId };
    if (holdUntil) {
      await ctx.db.update(enrollments).set({ status: "pending-payment", paymentDueAt: holdUntil, updatedAt: now }).where(eq(enrollments.id, row.id));
      await recordEvent(ctx, {
        type: "enrollment.pending-payment",
        aggregateType: "enrollment",
        aggregateId: row.id,
        courseId,
        data: { ...ref, source: "waitlist", paymentDueAt: holdUntil.toISOString() },
      });
    } else if (course.waitlistMode === "auto") {
      await ctx.db.update(enrollments).set({ status: "active", enrolledAt: now, updatedAt: now }).where(eq(enrollments.id, row.id));
      await recordEvent(ctx, { type: "enrollment.promoted", aggregateType: "enrollment", aggregateId: row.id, courseId, data: { ...ref, from: "waitlisted" } });
    } else {
      const offerExpiresAt = new Date(now.getTime() + course.offerTtlHours * 3_600_000);
      await ctx.db.update(enrollments).set({ status: "offered", offeredAt: now, offerExpiresAt, updatedAt: now }).where(eq(enrollments.id, row.id));
      await recordEvent(ctx, {
        type: "enrollment.offered",
        aggregateType: "enrollment",
        aggregateId: row.id,
        courseId,
        data: { ...ref, offerExpiresAt: offerExpiresAt.toISOString() },
      });
    }
  }
  await ctx.db.update(courses).set({ seatsTaken: sql`${courses.seatsTaken} + ${next.length}` }).where(eq(courses.id, courseId));
  return next.length;
}
