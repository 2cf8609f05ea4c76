import { creditUnpaidInvoicesOfEnrollment } from "../../domain/finance/credit-notes.js";
import { issueInvoicesForEnrollments } from "../../domain/finance/invoices.js";
import type { DomainContext } from "../../domain/shared/context.js";
import { subscriptionHandler } from "../platform/subscription.js";

// The `invoices` subscription: an enrollment that takes a seat (or a section place, for section fees) is invoiced
// for every fee that applies to it, once per (enrollment, fee) however often the event comes; one that ends unpaid has what it still owes credited.
// A batch's enrollments are invoiced together (set-based, one counter update for their numbers), then its ends.
// PDFs are rendered on first download (invoicePdfLink), so nothing here waits on Blob Storage.
subscriptionHandler({
  name: "issue-invoices-on-enrollment",
  subscription: "invoices",
  handleMany: async (events, ctx) => {
    const issuing = new Map<string, DomainContext>();
    for (const event of events) {
      if (event.type === "enrollment.created" || event.type === "enrollment.pending-payment" || event.type === "enrollment.promoted" || event.type === "enrollment.section-changed") {
        if (!issuing.has(event.data.enrollmentId)) issuing.set(event.data.enrollmentId, ctx.domain(event));
      }
    }
    const [first] = issuing.values();
    if (first) {
      const issued = await issueInvoicesForEnrollments(first, [...issuing.keys()], (id) => issuing.get(id) ?? first);
      for (const [enrollmentId, ids] of issued) ctx.log.info("invoices issued", { enrollmentId, invoices: ids.length });
    }
    for (const event of events) {
      if (event.type !== "enrollment.dropped" && event.type !== "enrollment.payment-expired") continue;
      const reason = event.type === "enrollment.dropped" ? "Enrollment cancelled" : "Seat released unpaid";
      const credited = await creditUnpaidInvoicesOfEnrollment(ctx.domain(event), event.data.enrollmentId, reason);
      if (credited.length > 0) ctx.log.info("invoices credited", { enrollmentId: event.data.enrollmentId, creditNotes: credited.length });
    }
  },
});
