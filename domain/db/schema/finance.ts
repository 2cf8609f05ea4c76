import { sql } from "drizzle-orm";
import { bigint, boolean, check, char, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { type AnyPgColumn } from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./columns.js";
import { courses } from "./courses.js";
import { enrollments } from "./enrollments.js";
import { sections } from "./sections.js";
import { users } from "./users.js";

// Money is an integer count of the currency's minor units (cents, yen, fils) with its ISO 4217 code beside it;
// never a float. `bigint(mode: "number")`: JS numbers are exact to 2^53, far beyond any school fee.
const minor = (name: string) => bigint(name, { mode: "number" });
const currency = (name = "currency") => char(name, { length: 3 }).notNull();
// Financial records are kept: nothing they point at may take them away with it (users are pseudonymised, never
// deleted; courses and enrollments are not deleted). A delete that would orphan one fails instead.
const keeps = (name: string, target: () => AnyPgColumn) => uuid(name).notNull().references(target, { onDelete: "restrict" });

/** What payment a fee asks for before an enrollment becomes active (the seat is held as `pending-payment` until then). */
export const feeRequirements = ["none", "full", "first-instalment"] as const;
export type FeeRequirement = (typeof feeRequirements)[number];
export const lateFeeKinds = ["none", "fixed", "percent"] as const;
export type LateFeeKind = (typeof lateFeeKinds)[number];

/**
 * A fee of a course (or of one section, or of one term of it): what enrolling costs. Changing a fee changes
 * what later invoices say; issued invoices never change. Retired fees invoice nobody new.
 */
export const fees = pgTable(
  "fees",
  {
    id: uuid("id").primaryKey(),
    courseId: keeps("course_id", () => courses.id),
    // only learners placed in this section owe it; null: the whole course
    sectionId: uuid("section_id").references(() => sections.id, { onDelete: "restrict" }),
    // a free label ("2026-autumn") for fees of one term; informational, shown on the invoice
    term: text("term"),
    name: text("name").notNull(),
    currency: currency(),
    amountMinor: minor("amount_minor").notNull(),
    // a fixed due date (a term's); null: `due_after_days` after the invoice is issued
    dueAt: tstz("due_at"),
    dueAfterDays: integer("due_after_days").notNull().default(14),
    requirement: text("requirement").$type<FeeRequirement>().notNull().default("none"),
    lateFeeKind: text("late_fee_kind").$type<LateFeeKind>().notNull().default("none"),
    // minor units (fixed) or basis points of the overdue instalment (percent: 500 = 5%)
    lateFeeValue: bigint("late_fee_value", { mode: "number" }).notNull().default(0),
    lateFeeGraceDays: integer("late_fee_grace_days").notNull().default(0),
    retiredAt: tstz("retired_at"),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
    version: integer("version").notNull().default(1),
    ...timestamps,
  },
  (t) => [
    index("fees_course_id_idx").on(t.courseId),
    check("fees_amount_check", sql`${t.amountMinor} > 0`),
    check("fees_late_fee_check", sql`${t.lateFeeValue} >= 0 and ${t.lateFeeGraceDays} >= 0 and ${t.dueAfterDays} >= 0`),
  ],
);

/**
 * An instalment plan: the fee's amount in n parts (their amounts sum to the fee's). Each part is due at a fixed
 * date or `due_after_days` after the invoice. No rows: one payment of the whole amount.
 */
export const feeInstalments = pgTable(
  "fee_instalments",
  {
    feeId: uuid("fee_id")
      .notNull()
      .references(() => fees.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    amountMinor: minor("amount_minor").notNull(),
    dueAt: tstz("due_at"),
    dueAfterDays: integer("due_after_days").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.feeId, t.seq] }), check("fee_instalments_amount_check", sql`${t.amountMinor} > 0`)],
);

export const discountKinds = ["percent", "fixed", "waiver"] as const;
export type DiscountKind = (typeof discountKinds)[number];

/** A discount or waiver of one fee for one learner, granted by the bursar with a reason (audited). */
export const feeDiscounts = pgTable(
  "fee_discounts",
  {
    id: uuid("id").primaryKey(),
    feeId: keeps("fee_id", () => fees.id),
    userId: keeps("user_id", () => users.id),
    kind: text("kind").$type<DiscountKind>().notNull(),
    // basis points (percent), minor units (fixed), unused (waiver: the whole fee)
    value: bigint("value", { mode: "number" }).notNull().default(0),
    reason: text("reason").notNull(),
    grantedByUserId: uuid("granted_by_user_id").references(() => users.id, { onDelete: "set null" }),
    revokedAt: tstz("revoked_at"),
    ...timestamps,
  },
  (t) => [uniqueIndex("fee_discounts_fee_id_user_id_live_idx").on(t.feeId, t.userId).where(sql`${t.revokedAt} is null`), index("fee_discounts_user_id_idx").on(t.userId)],
);

/**
 * The last number given in each series and year ("INV" invoices, "CN" credit notes). Numbers are taken by
 * incrementing this row inside the transaction that issues the document: a rollback returns the number with
 * it, so the numbers of a year have no gaps (a sequence would skip the rolled-back ones). The row lock makes
 * issuing in one series one at a time, which is what gap-free costs.
 */
export const documentCounters = pgTable(
  "document_counters",
  {
    series: text("series").notNull(),
    year: integer("year").notNull(),
    lastNumber: integer("last_number").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.series, t.year] })],
);

export const invoiceStatuses = ["open", "paid", "void"] as const;
export type InvoiceStatus = (typeof invoiceStatuses)[number];

/** One line of an invoice as issued (the document's content; never edited). */
export interface InvoiceLine {
  description: string;
  amountMinor: number;
}

/**
 * An invoice, issued once per (enrollment, fee) and never edited: what it asked for stays as issued. What has
 * been paid, refunded, discounted later or credited is in the ledger; `status` is the payment state read from it
 * (open until settled; void when a credit note cancelled what was unpaid).
 */
export const invoices = pgTable(
  "invoices",
  {
    id: uuid("id").primaryKey(),
    // "INV-2026-000001": gap-free per year (document_counters)
    number: text("number").notNull(),
    year: integer("year").notNull(),
    userId: keeps("user_id", () => users.id),
    enrollmentId: keeps("enrollment_id", () => enrollments.id),
    feeId: keeps("fee_id", () => fees.id),
    courseId: keeps("course_id", () => courses.id),
    currency: currency(),
    subtotalMinor: minor("subtotal_minor").notNull(),
    discountMinor: minor("discount_minor").notNull().default(0),
    totalMinor: minor("total_minor").notNull(),
    lines: jsonb("lines").$type<InvoiceLine[]>().notNull(),
    // the bill-to as at issue (an invoice is a record of what was sent to whom)
    billToName: text("bill_to_name").notNull(),
    billToEmail: text("bill_to_email").notNull(),
    status: text("status").$type<InvoiceStatus>().notNull().default("open"),
    issuedAt: tstz("issued_at").notNull(),
    // the last instalment's due date (the whole amount's, without a plan)
    dueAt: tstz("due_at").notNull(),
    paidAt: tstz("paid_at"),
    // the PDF in Blob Storage, once rendered
    pdfBlob: text("pdf_blob"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("invoices_number_idx").on(t.number),
    uniqueIndex("invoices_enrollment_id_fee_id_idx").on(t.enrollmentId, t.feeId),
    index("invoices_user_id_idx").on(t.userId, t.issuedAt),
    index("invoices_course_id_idx").on(t.courseId, t.issuedAt),
    index("invoices_open_due_at_idx").on(t.dueAt).where(sql`${t.status} = 'open'`),
    check("invoices_total_check", sql`${t.totalMinor} >= 0 and ${t.totalMinor} = ${t.subtotalMinor} - ${t.discountMinor}`),
  ],
);

/** When each part of an invoice is due (one row, seq 1, without a plan); amounts sum to the invoice's total. */
export const invoiceInstalments = pgTable(
  "invoice_instalments",
  {
    invoiceId: uuid("invoice_id")
      .notNull()
      .references(() => invoices.id, { onDelete: "restrict" }),
    seq: integer("seq").notNull(),
    amountMinor: minor("amount_minor").notNull(),
    dueAt: tstz("due_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.invoiceId, t.seq] }), index("invoice_instalments_due_at_idx").on(t.dueAt)],
);

/** A credit note: takes back (part of) an issued invoice, for a cancellation or a refund. Numbered "CN-2026-000001". */
export const creditNotes = pgTable(
  "credit_notes",
  {
    id: uuid("id").primaryKey(),
    number: text("number").notNull(),
    year: integer("year").notNull(),
    invoiceId: keeps("invoice_id", () => invoices.id),
    userId: keeps("user_id", () => users.id),
    currency: currency(),
    amountMinor: minor("amount_minor").notNull(),
    reason: text("reason").notNull(),
    // the refund it documents, if any
    refundId: uuid("refund_id"),
    issuedAt: tstz("issued_at").notNull(),
    issuedByUserId: uuid("issued_by_user_id").references(() => users.id, { onDelete: "set null" }),
    pdfBlob: text("pdf_blob"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("credit_notes_number_idx").on(t.number),
    index("credit_notes_invoice_id_idx").on(t.invoiceId),
    uniqueIndex("credit_notes_refund_id_idx").on(t.refundId),
    check("credit_notes_amount_check", sql`${t.amountMinor} > 0`),
  ],
);

export const paymentAttemptStatuses = ["open", "completed", "expired"] as const;
export type PaymentAttemptStatus = (typeof paymentAttemptStatuses)[number];

/** A checkout at the payment provider for an invoice (a Stripe Checkout Session); attempt n is its idempotency key. */
export const paymentAttempts = pgTable(
  "payment_attempts",
  {
    id: uuid("id").primaryKey(),
    invoiceId: keeps("invoice_id", () => invoices.id),
    attempt: integer("attempt").notNull(),
    provider: text("provider").notNull(),
    providerSessionId: text("provider_session_id"),
    amountMinor: minor("amount_minor").notNull(),
    currency: currency(),
    url: text("url"),
    status: text("status").$type<PaymentAttemptStatus>().notNull().default("open"),
    expiresAt: tstz("expires_at"),
    ...timestamps,
  },
  (t) => [uniqueIndex("payment_attempts_invoice_id_attempt_idx").on(t.invoiceId, t.attempt), uniqueIndex("payment_attempts_provider_session_id_idx").on(t.providerSessionId)],
);

export const paymentMethods = ["stripe", "bank-transfer", "cash"] as const;
export type PaymentMethod = (typeof paymentMethods)[number];

/** Money received for an invoice: through the provider (once per provider payment id) or recorded by the bursar. */
export const payments = pgTable(
  "payments",
  {
    id: uuid("id").primaryKey(),
    invoiceId: keeps("invoice_id", () => invoices.id),
    userId: keeps("user_id", () => users.id),
    method: text("method").$type<PaymentMethod>().notNull(),
    currency: currency(),
    amountMinor: minor("amount_minor").notNull(),
    // the provider's payment (a Stripe PaymentIntent id): a payment is recorded once however often it is reported
    providerPaymentId: text("provider_payment_id"),
    // the bank transfer's or receipt's reference (manual payments)
    reference: text("reference"),
    receivedAt: tstz("received_at").notNull(),
    recordedByUserId: uuid("recorded_by_user_id").references(() => users.id, { onDelete: "set null" }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("payments_provider_payment_id_idx").on(t.providerPaymentId),
    index("payments_invoice_id_idx").on(t.invoiceId),
    // A bank transfer or cash receipt is recorded once per invoice (a second recording of it is a duplicate).
    uniqueIndex("payments_manual_reference_idx").on(t.invoiceId, t.method, t.reference).where(sql`${t.method} <> 'stripe'`),
    index("payments_user_id_idx").on(t.userId),
    check("payments_amount_check", sql`${t.amountMinor} > 0`),
  ],
);

export const refundStatuses = ["pending", "succeeded", "failed"] as const;
export type RefundStatus = (typeof refundStatuses)[number];

/** Money given back from a payment: through the provider or recorded by the bursar. Never more than was paid. */
export const refunds = pgTable(
  "refunds",
  {
    id: uuid("id").primaryKey(),
    paymentId: keeps("payment_id", () => payments.id),
    invoiceId: keeps("invoice_id", () => invoices.id),
    userId: keeps("user_id", () => users.id),
    method: text("method").$type<"provider" | "manual">().notNull(),
    currency: currency(),
    amountMinor: minor("amount_minor").notNull(),
    providerRefundId: text("provider_refund_id"),
    reference: text("reference"),
    reason: text("reason").notNull(),
    status: text("status").$type<RefundStatus>().notNull().default("pending"),
    /** `<caller>:<Idempotency-Key>` of the request that made it: a retry after a provider timeout finds this row. */
    requestKey: text("request_key"),
    /** Whether the refund also takes back what the invoice asks (a credit note); null: yes if the invoice was paid. */
    cancelCharge: boolean("cancel_charge"),
    recordedByUserId: uuid("recorded_by_user_id").references(() => users.id, { onDelete: "set null" }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("refunds_provider_refund_id_idx").on(t.providerRefundId),
    index("refunds_payment_id_idx").on(t.paymentId),
    uniqueIndex("refunds_request_key_idx").on(t.paymentId, t.requestKey),
    check("refunds_amount_check", sql`${t.amountMinor} > 0`),
  ],
);

export const ledgerKinds = ["charge", "discount", "late-fee", "payment", "refund", "credit-note", "credit-out", "credit-in"] as const;
export type LedgerKind = (typeof ledgerKinds)[number];

/**
 * The append-only ledger (a trigger refuses UPDATE and DELETE). Amounts are signed from the learner's side:
 * positive adds to what they owe (charge, late fee, refund), negative takes from it (discount, payment, credit
 * note). A learner's balance in a currency is the sum of their entries: above zero they owe, below zero they
 * hold credit. Entries name the invoice they belong to; moving credit from an overpaid invoice to another is a
 * pair (credit-out on the overpaid, credit-in on the other) that leaves the balance as it was.
 * `source_key` makes every posting happen once ("charge:<invoice>", "late-fee:<invoice>:<seq>", "payment:<id>").
 */
export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    id: uuid("id").primaryKey(),
    userId: keeps("user_id", () => users.id),
    currency: currency(),
    kind: text("kind").$type<LedgerKind>().notNull(),
    amountMinor: minor("amount_minor").notNull(),
    invoiceId: uuid("invoice_id").references(() => invoices.id, { onDelete: "restrict" }),
    paymentId: uuid("payment_id").references(() => payments.id, { onDelete: "restrict" }),
    refundId: uuid("refund_id").references(() => refunds.id, { onDelete: "restrict" }),
    creditNoteId: uuid("credit_note_id").references(() => creditNotes.id, { onDelete: "restrict" }),
    // the instalment a late fee (or a payment's share) belongs to; null: the invoice as a whole
    instalmentSeq: integer("instalment_seq"),
    sourceKey: text("source_key").notNull(),
    description: text("description").notNull(),
    occurredAt: tstz("occurred_at").notNull(),
    recordedByUserId: uuid("recorded_by_user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("ledger_entries_source_key_idx").on(t.sourceKey),
    index("ledger_entries_user_id_idx").on(t.userId, t.currency),
    index("ledger_entries_invoice_id_idx").on(t.invoiceId),
    check("ledger_entries_amount_check", sql`${t.amountMinor} <> 0`),
  ],
);

/** Each provider webhook event, recorded once by its id: a redelivery finds it and changes nothing. */
export const providerEvents = pgTable(
  "provider_events",
  {
    id: text("id").primaryKey(),
    provider: text("provider").notNull(),
    type: text("type").notNull(),
    // the object the event is about (a Checkout Session, PaymentIntent, Charge, Refund id)
    objectId: text("object_id").notNull(),
    // when the provider made the event (its `created`): orders events that arrive out of order
    occurredAt: tstz("occurred_at").notNull(),
    receivedAt: tstz("received_at").notNull(),
    processedAt: tstz("processed_at"),
  },
  (t) => [index("provider_events_object_id_idx").on(t.objectId)],
);

/** Reminders and dunning steps done, once per (invoice, stage): "due-soon:1", "overdue:1", "suspended". */
export const invoiceReminders = pgTable(
  "invoice_reminders",
  {
    invoiceId: uuid("invoice_id")
      .notNull()
      .references(() => invoices.id, { onDelete: "restrict" }),
    stage: text("stage").notNull(),
    doneAt: tstz("done_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.invoiceId, t.stage] })],
);

/** Row shapes, for the parts that read them. */
export type Fee = typeof fees.$inferSelect;
export type Invoice = typeof invoices.$inferSelect;
export type LedgerEntry = typeof ledgerEntries.$inferSelect;
