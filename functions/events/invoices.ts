import { creditUnpaidInvoicesOfEnrollment } from "../../domain/finance/credit-notes.js";
import { issueInvoicesForEnrollment } from "../../domain/finance/invoices.js";
import { subscriptionHandler } from "../platform/subscription.js";

// The `invoices` subscription: an enrollment that takes a seat (or a section place, for section fees) is invoiced
// for every fee that applies to it, once per (enrollment, fee) however often the event comes; one that ends unpaid has what it still owes credited.
// PDFs are rendered on first download (invoicePdfLink), so nothing here waits on Blob Storage.
subscriptionHandler({
  name: "issue-invoices-on-enrollment",
  subscription: "invoices",
  handle: async (event, ctx) => {
    switch (event.type) {
      case "enrollment.created":
      case "enrollment.pending-payment":
      case "enrollment.promoted":
      case "enrollment.section-changed": {
        const issued = await issueInvoicesForEnrollment(ctx.domain, event.data.enrollmentId);
        if (issued.length > 0) ctx.log.info("invoices issued", { enrollmentId: event.data.enrollmentId, invoices: issued.length });
        return;
      }
      case "enrollment.dropped":
      case "enrollment.payment-expired": {
        const reason = event.type === "enrollment.dropped" ? "Enrollment cancelled" : "Seat released unpaid";
        const credited = await creditUnpaidInvoicesOfEnrollment(ctx.domain, event.data.enrollmentId, reason);
        if (credited.length > 0) ctx.log.info("invoices credited", { enrollmentId: event.data.enrollmentId, creditNotes: credited.length });
        return;
      }
      default:
        return;
    }
  },
});
