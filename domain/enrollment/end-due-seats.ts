import { and, eq, lte, sql } from "drizzle-orm";
import { courses, enrollments } from "../db/schema/index.js";
import { recordEvents } from "../outbox/record-events.js";
import type { DomainContext } from "../shared/context.js";
import { lockCourse } from "./course-lock.js";
import { fillFreeSeats } from "./fill-free-seats.js";

/** What a timer ends: an offer not answered in time, or a seat held for payment past its due date. */
const ENDINGS = {
  offer: { from: "offered", to: "offer-expired", event: "enrollment.offer-expired", dueAt: enrollments.offerExpiresAt },
  hold: { from: "pending-payment", to: "payment-expired", event: "enrollment.payment-expired", dueAt: enrollments.paymentDueAt },
} as const;

/**
 * Ends the live rows whose time ran out (offers or payment holds) and gives their seats to the next in line: one
 * transaction per course, under its lock; one update, one batch of events, the seats given back, then
 * fillFreeSeats. The update re-checks the status and the due date on the committed row, so a row changed meanwhile
 * (an offer accepted, a hold paid) is left alone. Safe to run twice or late.
 */
export async function endDueSeats(ctx: DomainContext, what: keyof typeof ENDINGS): Promise<{ ended: number; courses: number }> {
  const { from, to, event, dueAt } = ENDINGS[what];
  const now = ctx.now();
  const isDue = and(eq(enrollments.status, from), lte(dueAt, now));
  const due = await ctx.db.selectDistinct({ courseId: enrollments.courseId }).from(enrollments).where(isDue);
  let ended = 0;
  for (const { courseId } of due) {
    await ctx.db.transaction(async (tx) => {
      const c = { ...ctx, db: tx };
      await lockCourse(tx, courseId);
      const rows = await tx
        .update(enrollments)
        .set({ status: to, endedAt: now, updatedAt: now })
        .where(and(eq(enrollments.courseId, courseId), isDue))
        .returning({ id: enrollments.id, userId: enrollments.userId });
      await recordEvents(
        c,
        rows.map((r) => ({ type: event, aggregateType: "enrollment", aggregateId: r.id, courseId, data: { enrollmentId: r.id, courseId, userId: r.userId } })),
      );
      if (rows.length) {
        await tx.update(courses).set({ seatsTaken: sql`${courses.seatsTaken} - ${rows.length}` }).where(eq(courses.id, courseId));
        await fillFreeSeats(c, courseId);
      }
      ended += rows.length;
    });
  }
  return { ended, courses: due.length };
}
