import { and, eq, lte, sql } from "drizzle-orm";
import { courses, enrollments } from "../db/schema/index.js";
import { lockCourse } from "../enrollment/course-lock.js";
import { fillFreeSeats } from "../enrollment/fill-free-seats.js";
import { recordEvents } from "../outbox/record-events.js";
import type { DomainContext } from "../shared/context.js";

/**
 * The seat-holds timer: seats held for payment past `payment_due_at` are released (`payment-expired`) and offered
 * to the next in line. One transaction per course, under its lock. No other lock guards against a payment: the
 * update's own row lock does. An update that meets a row a paying transaction (`settleInvoices`) is changing waits
 * for it and re-checks `status = 'pending-payment'` and the due date on the committed row, so a hold paid meanwhile
 * is left alone. Safe to run twice or late.
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
      await recordEvents(
        c,
        rows.map((r) => ({ type: "enrollment.payment-expired" as const, aggregateType: "enrollment", aggregateId: r.id, courseId, data: { enrollmentId: r.id, courseId, userId: r.userId } })),
      );
      if (rows.length) {
        await tx.update(courses).set({ seatsTaken: sql`${courses.seatsTaken} - ${rows.length}` }).where(eq(courses.id, courseId));
        await fillFreeSeats(c, courseId);
      }
      released += rows.length;
    });
  }
  return { released, courses: due.length };
}
