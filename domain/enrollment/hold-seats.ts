import { inArray } from "drizzle-orm";
import { enrollments } from "../db/schema/index.js";
import { recordEvents } from "../outbox/record-events.js";
import type { DomainContext } from "../shared/context.js";

/**
 * Holds the rows' seats for payment until `until` (`pending-payment`; the invoices are issued from the events): one
 * update and one batch of `enrollment.pending-payment` events. Under the course lock, in the caller's transaction;
 * the seats are counted by the caller. Answers the rows as updated.
 */
export async function holdSeatsForPayment(ctx: DomainContext, courseId: string, rows: readonly { id: string; userId: string }[], until: Date) {
  if (rows.length === 0) return [];
  const held = await ctx.db
    .update(enrollments)
    .set({ status: "pending-payment", paymentDueAt: until, updatedAt: ctx.now() })
    .where(inArray(enrollments.id, rows.map((r) => r.id)))
    .returning();
  await recordEvents(
    ctx,
    rows.map((r) => ({
      type: "enrollment.pending-payment" as const,
      aggregateType: "enrollment",
      aggregateId: r.id,
      courseId,
      data: { enrollmentId: r.id, courseId, userId: r.userId, source: "waitlist" as const, paymentDueAt: until.toISOString() },
    })),
  );
  return held;
}
