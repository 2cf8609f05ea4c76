import { and, eq, lte, sql } from "drizzle-orm";
import { courses, enrollments } from "../db/schema/index.js";
import { lockCourse } from "../enrollment/course-lock.js";
import { fillFreeSeats } from "../enrollment/fill-free-seats.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";

/**
 * The seat-holds timer: seats held for payment past `payment_due_at` are released (`payment-expired`) and offered
 * to the next in line. One transaction per course, under its lock; the update re-checks `status =
 * 'pending-payment'` and the due date on the locked rows, so a hold whose invoice was paid meanwhile (activated by
 * `settleInvoices`, which locks the enrollment row) is left alone. Safe to run twice or late.
 */
export async function releaseExpiredHolds(ctx: DomainContext): Promise<{ released: number; courses: number }> {
  const now = ctx.now();
  const due = await ctx.db
    .selectDistinct({ courseId: enrollments.courseId })
    .from(enrollments)
    .where(and(eq(enrollments.status, "pending-payment"), lte(enrollments.paymentDueAt, now)));
  let released = 0;
  for (const { courseId } of due) {
    await ctx.db.transaction(async (tx) => {
      const c = { ...ctx, db: tx };
      await lockCourse(tx, courseId);
      const rows = await tx
        .update(enrollments)
        .set({ status: "payment-expired", endedAt: now, updatedAt: now })
        .where(and(eq(enrollments.courseId, courseId), eq(enrollments.status, "pending-payment"), lte(enrollments.paymentDueAt, now)))
        .returning({ id: enrollments.id, userId: enrollments.userId });
      for (const r of rows) {
        await recordEvent(c, { type: "enrollment.payment-expired", aggregateType: "enrollment", aggregateId: r.id, courseId, data: { enrollmentId: r.id, courseId, userId: r.userId } });
      }
      if (rows.length) {
        await tx.update(courses).set({ seatsTaken: sql`${courses.seatsTaken} - ${rows.length}` }).where(eq(courses.id, courseId));
        await fillFreeSeats(c, courseId);
      }
      released += rows.length;
    });
  }
  return { released, courses: due.length };
}
