import { and, asc, eq } from "drizzle-orm";
import { creditNotes, invoices, ledgerEntries, payments, refunds } from "../db/schema/index.js";
import { after, byId, PAGE } from "../privacy/pages.js";
import type { PersonalDataPart } from "../privacy/personal-data.js";

// The data export's finance records: the learner's invoices, credit notes, payments, refunds and ledger entries
// (kept at erasure: legal retention). Amounts in minor units beside their currency, as everywhere.

const invoicesPart: PersonalDataPart = {
  name: "invoices",
  file: "invoices.json",
  description: "Your invoices as issued (bill-to, lines, totals, due date) and their status.",
  pages: ({ db }, userId) =>
    byId((afterId) =>
      db
        .select({
          id: invoices.id,
          number: invoices.number,
          courseId: invoices.courseId,
          enrollmentId: invoices.enrollmentId,
          currency: invoices.currency,
          subtotalMinor: invoices.subtotalMinor,
          discountMinor: invoices.discountMinor,
          totalMinor: invoices.totalMinor,
          lines: invoices.lines,
          billToName: invoices.billToName,
          billToEmail: invoices.billToEmail,
          status: invoices.status,
          issuedAt: invoices.issuedAt,
          dueAt: invoices.dueAt,
          paidAt: invoices.paidAt,
        })
        .from(invoices)
        .where(and(eq(invoices.userId, userId), after(invoices.id, afterId)))
        .orderBy(asc(invoices.id))
        .limit(PAGE),
    ),
};

const creditNotesPart: PersonalDataPart = {
  name: "credit-notes",
  file: "credit-notes.json",
  description: "Credit notes that took back part or all of your invoices, with their reason.",
  pages: ({ db }, userId) =>
    byId((afterId) =>
      db
        .select({ id: creditNotes.id, number: creditNotes.number, invoiceId: creditNotes.invoiceId, currency: creditNotes.currency, amountMinor: creditNotes.amountMinor, reason: creditNotes.reason, issuedAt: creditNotes.issuedAt })
        .from(creditNotes)
        .where(and(eq(creditNotes.userId, userId), after(creditNotes.id, afterId)))
        .orderBy(asc(creditNotes.id))
        .limit(PAGE),
    ),
};

const paymentsPart: PersonalDataPart = {
  name: "payments",
  file: "payments.json",
  description: "Payments received for your invoices (method, amount, the provider's or the bursar's reference).",
  pages: ({ db }, userId) =>
    byId((afterId) =>
      db
        .select({ id: payments.id, invoiceId: payments.invoiceId, method: payments.method, currency: payments.currency, amountMinor: payments.amountMinor, providerPaymentId: payments.providerPaymentId, reference: payments.reference, receivedAt: payments.receivedAt })
        .from(payments)
        .where(and(eq(payments.userId, userId), after(payments.id, afterId)))
        .orderBy(asc(payments.id))
        .limit(PAGE),
    ),
};

const refundsPart: PersonalDataPart = {
  name: "refunds",
  file: "refunds.json",
  description: "Refunds of your payments (amount, reason, status).",
  pages: ({ db }, userId) =>
    byId((afterId) =>
      db
        .select({ id: refunds.id, paymentId: refunds.paymentId, invoiceId: refunds.invoiceId, method: refunds.method, currency: refunds.currency, amountMinor: refunds.amountMinor, reason: refunds.reason, status: refunds.status, createdAt: refunds.createdAt })
        .from(refunds)
        .where(and(eq(refunds.userId, userId), after(refunds.id, afterId)))
        .orderBy(asc(refunds.id))
        .limit(PAGE),
    ),
};

const ledgerPart: PersonalDataPart = {
  name: "ledger",
  file: "ledger.json",
  description: "Your account's ledger: every charge, discount, late fee, payment, refund and credit; your balance per currency is their sum.",
  pages: ({ db }, userId) =>
    byId((afterId) =>
      db
        .select({
          id: ledgerEntries.id,
          kind: ledgerEntries.kind,
          currency: ledgerEntries.currency,
          amountMinor: ledgerEntries.amountMinor,
          invoiceId: ledgerEntries.invoiceId,
          description: ledgerEntries.description,
          occurredAt: ledgerEntries.occurredAt,
        })
        .from(ledgerEntries)
        .where(and(eq(ledgerEntries.userId, userId), after(ledgerEntries.id, afterId)))
        .orderBy(asc(ledgerEntries.id))
        .limit(PAGE),
    ),
};

export const financeParts: readonly PersonalDataPart[] = [invoicesPart, creditNotesPart, paymentsPart, refundsPart, ledgerPart];
