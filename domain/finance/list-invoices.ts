import { and, desc, eq, gte, lt, or, type SQL, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courses, type InvoiceStatus, invoices, ledgerEntries } from "../db/schema/index.js";
import { csvRow } from "../shared/csv.js";

export interface InvoiceFilters {
  /** The learner's own list, or the bursar's filter. */
  userId?: string;
  status?: InvoiceStatus;
  courseId?: string;
  currency?: string;
  issuedFrom?: Date;
  /** exclusive */
  issuedTo?: Date;
  /** Open with an instalment past its due date and unpaid. */
  overdue?: boolean;
}

export interface InvoiceListPage {
  limit: number;
  /** Keyset position: the last item's (issuedAt, id). */
  after?: { issuedAt: Date; id: string };
}

// What the invoice's ledger entries sum to: above zero still owed, below zero overpaid.
const outstanding = sql<string>`(select coalesce(sum(${ledgerEntries.amountMinor}), 0) from ${ledgerEntries} where ${ledgerEntries.invoiceId} = ${invoices.id})`;

/**
 * Overdue, in one statement per page: reductions come off the last instalments and payments go to the first (the
 * `instalmentStates` rule), so something past due is unpaid exactly when what is owed exceeds what the instalments
 * not yet due still ask for (their planned amounts less what credit notes took back).
 */
const overdueSql = (now: Date) => sql`${invoices.status} = 'open' and ${outstanding} > greatest(0,
  (select coalesce(sum(p.amount_minor), 0) from invoice_instalments p where p.invoice_id = ${invoices.id} and p.due_at > ${now.toISOString()}::timestamptz)
  + (select coalesce(sum(c.amount_minor), 0) from ${ledgerEntries} c where c.invoice_id = ${invoices.id} and c.kind = 'credit-note'))`;

/** A page of invoices, newest first, each with what is still owed on it. */
export async function listInvoices(db: Executor, filters: InvoiceFilters, page: InvoiceListPage, now: Date) {
  const where: (SQL | undefined)[] = [
    filters.userId ? eq(invoices.userId, filters.userId) : undefined,
    filters.status ? eq(invoices.status, filters.status) : undefined,
    filters.courseId ? eq(invoices.courseId, filters.courseId) : undefined,
    filters.currency ? eq(invoices.currency, filters.currency) : undefined,
    filters.issuedFrom ? gte(invoices.issuedAt, filters.issuedFrom) : undefined,
    filters.issuedTo ? lt(invoices.issuedAt, filters.issuedTo) : undefined,
    filters.overdue === true ? overdueSql(now) : filters.overdue === false ? sql`not (${overdueSql(now)})` : undefined,
    page.after
      ? or(lt(invoices.issuedAt, page.after.issuedAt), and(eq(invoices.issuedAt, page.after.issuedAt), lt(invoices.id, page.after.id)))
      : undefined,
  ];
  const rows = await db
    .select({
      id: invoices.id,
      number: invoices.number,
      userId: invoices.userId,
      enrollmentId: invoices.enrollmentId,
      feeId: invoices.feeId,
      courseId: invoices.courseId,
      courseTitle: courses.title,
      billToName: invoices.billToName,
      billToEmail: invoices.billToEmail,
      currency: invoices.currency,
      subtotalMinor: invoices.subtotalMinor,
      discountMinor: invoices.discountMinor,
      totalMinor: invoices.totalMinor,
      status: invoices.status,
      issuedAt: invoices.issuedAt,
      dueAt: invoices.dueAt,
      paidAt: invoices.paidAt,
      outstanding,
    })
    .from(invoices)
    .innerJoin(courses, eq(courses.id, invoices.courseId))
    .where(and(...where))
    .orderBy(desc(invoices.issuedAt), desc(invoices.id))
    .limit(page.limit + 1);
  return rows.map(({ outstanding: o, ...r }) => ({ ...r, outstandingMinor: Number(o) }));
}

export type InvoiceListItem = Awaited<ReturnType<typeof listInvoices>>[number];

/** The bursar's CSV of a page of invoices (amounts in minor units, as everywhere). */
export function invoicesCsv(items: readonly InvoiceListItem[]): string {
  const header = ["number", "status", "issuedAt", "dueAt", "paidAt", "userId", "billToName", "billToEmail", "courseId", "courseTitle", "currency", "subtotalMinor", "discountMinor", "totalMinor", "outstandingMinor"];
  return (
    csvRow(header) +
    items
      .map((i) =>
        csvRow([i.number, i.status, i.issuedAt.toISOString(), i.dueAt.toISOString(), i.paidAt?.toISOString() ?? "", i.userId, i.billToName, i.billToEmail, i.courseId, i.courseTitle, i.currency, i.subtotalMinor, i.discountMinor, i.totalMinor, i.outstandingMinor]),
      )
      .join("")
  );
}

/** A page of a learner's ledger entries, newest first (the bursar's view of their account). */
export async function ledgerPage(db: Executor, userId: string, page: { limit: number; after?: { occurredAt: Date; id: string } }) {
  return db
    .select()
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.userId, userId),
        page.after
          ? or(lt(ledgerEntries.occurredAt, page.after.occurredAt), and(eq(ledgerEntries.occurredAt, page.after.occurredAt), lt(ledgerEntries.id, page.after.id)))
          : undefined,
      ),
    )
    .orderBy(desc(ledgerEntries.occurredAt), desc(ledgerEntries.id))
    .limit(page.limit + 1);
}
