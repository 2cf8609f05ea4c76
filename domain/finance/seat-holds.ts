import { endDueSeats } from "../enrollment/end-due-seats.js";
import type { DomainContext } from "../shared/context.js";

/**
 * The seat-holds timer: seats held for payment past `payment_due_at` are released (`payment-expired`) and offered
 * to the next in line. One transaction per course, under its lock. No other lock guards against a payment: the
 * update's own row lock does. An update that meets a row a paying transaction (`settleInvoices`) is changing waits
 * for it and re-checks `status = 'pending-payment'` and the due date on the committed row, so a hold paid meanwhile
 * is left alone. Safe to run twice or late.
 */
export async function releaseExpiredHolds(ctx: DomainContext): Promise<{ released: number; courses: number }> {
  const { ended, courses } = await endDueSeats(ctx, "hold");
  return { released: ended, courses };
}
