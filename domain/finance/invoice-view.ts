import { and, asc, desc, eq, isNull } from "drizzle-orm";
import type { FileStore } from "../catalog/file-store.js";
import type { BlobWriter } from "../certificates/issue-certificate.js";
import type { Executor } from "../db/client.js";
import { courses, creditNotes, invoiceInstalments, invoices, ledgerEntries, payments, refunds } from "../db/schema/index.js";
import { fail, ok, type Result } from "../shared/result.js";
import { UUID_PATTERN } from "../shared/uuid.js";
import { type FinanceDocument, renderFinancePdf } from "./invoice-pdf.js";
import { balancesOf, invoiceStandings } from "./ledger.js";

/** Who reads a finance record: its learner, or the bursar (finance role or admin). */
export interface FinanceViewer {
  userId: string;
  isFinance: boolean;
}

const mayRead = (viewer: FinanceViewer, ownerId: string) => viewer.isFinance || viewer.userId === ownerId;

export type FinanceDocumentKind = "invoice" | "credit-note";

export const invoicePdfBlobName = (userId: string, invoiceId: string) => `invoices/${userId}/${invoiceId}.pdf`;
export const creditNotePdfBlobName = (userId: string, creditNoteId: string) => `credit-notes/${userId}/${creditNoteId}.pdf`;

/** Where PDFs are written and read from (Blob Storage, through the app's file store). */
export type FinanceDocumentStore = BlobWriter & Pick<FileStore, "downloadUrl">;

/**
 * A short-lived read-only link to the PDF of an invoice. The PDF is rendered on first use and kept: the document
 * never changes after issue, so rendering it later gives what rendering it at issue would have, costs nothing for
 * documents nobody opens, and a failed upload is simply redone by the next request (issuing itself never waits on
 * Blob Storage). `viewer` null: the caller proved access otherwise (a signed email link). Another learner's
 * invoice is "not found", as one that does not exist.
 */
export async function invoicePdfLink(db: Executor, store: FinanceDocumentStore, id: string, viewer: FinanceViewer | null, ttlSeconds: number): Promise<Result<{ url: string; expiresAt: Date }, "INVOICE_NOT_FOUND">> {
  const link = await documentLink(db, store, "invoice", id, viewer, ttlSeconds);
  return link ? ok(link) : fail("INVOICE_NOT_FOUND");
}

/** A short-lived read-only link to the PDF of a credit note (as `invoicePdfLink`). */
export async function creditNotePdfLink(db: Executor, store: FinanceDocumentStore, id: string, viewer: FinanceViewer | null, ttlSeconds: number): Promise<Result<{ url: string; expiresAt: Date }, "CREDIT_NOTE_NOT_FOUND">> {
  const link = await documentLink(db, store, "credit-note", id, viewer, ttlSeconds);
  return link ? ok(link) : fail("CREDIT_NOTE_NOT_FOUND");
}

async function documentLink(db: Executor, store: FinanceDocumentStore, kind: FinanceDocumentKind, id: string, viewer: FinanceViewer | null, ttlSeconds: number) {
  if (!UUID_PATTERN.test(id)) return null;
  const source = kind === "invoice" ? await invoiceDocument(db, id) : await creditNoteDocument(db, id);
  if (!source || (viewer && !mayRead(viewer, source.userId))) return null;
  let blobName = source.pdfBlob;
  if (!blobName) {
    blobName = kind === "invoice" ? invoicePdfBlobName(source.userId, id) : creditNotePdfBlobName(source.userId, id);
    await store.write(blobName, await renderFinancePdf(source.document), "application/pdf");
    const table = kind === "invoice" ? invoices : creditNotes;
    await db.update(table).set({ pdfBlob: blobName }).where(and(eq(table.id, id), isNull(table.pdfBlob)));
  }
  return store.downloadUrl(blobName, ttlSeconds, `${source.document.number}.pdf`);
}

interface DocumentSource {
  userId: string;
  pdfBlob: string | null;
  document: FinanceDocument;
}

async function invoiceDocument(db: Executor, id: string): Promise<DocumentSource | null> {
  const [row] = await db.select({ invoice: invoices, courseTitle: courses.title }).from(invoices).innerJoin(courses, eq(courses.id, invoices.courseId)).where(eq(invoices.id, id));
  if (!row) return null;
  const plan = await db.select().from(invoiceInstalments).where(eq(invoiceInstalments.invoiceId, id)).orderBy(asc(invoiceInstalments.seq));
  const i = row.invoice;
  return {
    userId: i.userId,
    pdfBlob: i.pdfBlob,
    document: {
      kind: "invoice",
      number: i.number,
      issuedAt: i.issuedAt,
      dueAt: i.dueAt,
      billToName: i.billToName,
      billToEmail: i.billToEmail,
      courseTitle: row.courseTitle,
      currency: i.currency,
      lines: i.lines,
      totalMinor: i.totalMinor,
      instalments: plan.map((p) => ({ seq: p.seq, amountMinor: p.amountMinor, dueAt: p.dueAt })),
    },
  };
}

async function creditNoteDocument(db: Executor, id: string): Promise<DocumentSource | null> {
  const [row] = await db
    .select({ note: creditNotes, invoice: invoices, courseTitle: courses.title })
    .from(creditNotes)
    .innerJoin(invoices, eq(invoices.id, creditNotes.invoiceId))
    .innerJoin(courses, eq(courses.id, invoices.courseId))
    .where(eq(creditNotes.id, id));
  if (!row) return null;
  const { note, invoice } = row;
  return {
    userId: note.userId,
    pdfBlob: note.pdfBlob,
    document: {
      kind: "credit-note",
      number: note.number,
      issuedAt: note.issuedAt,
      billToName: invoice.billToName,
      billToEmail: invoice.billToEmail,
      courseTitle: row.courseTitle,
      currency: note.currency,
      lines: [{ description: `Credit on invoice ${invoice.number}`, amountMinor: note.amountMinor }],
      totalMinor: note.amountMinor,
      invoiceNumber: invoice.number,
      reason: note.reason,
    },
  };
}

/** The whole story of one invoice: as issued, each instalment's state, and every payment, refund, credit note and ledger entry. */
export async function invoiceDetail(db: Executor, invoiceId: string, viewer: FinanceViewer) {
  if (!UUID_PATTERN.test(invoiceId)) return null;
  const standing = (await invoiceStandings(db, [invoiceId])).get(invoiceId);
  if (!standing || !mayRead(viewer, standing.invoice.userId)) return null;
  const [[course], paid, refunded, notes, entries] = await Promise.all([
    db.select({ title: courses.title }).from(courses).where(eq(courses.id, standing.invoice.courseId)),
    db.select().from(payments).where(eq(payments.invoiceId, invoiceId)).orderBy(asc(payments.receivedAt), asc(payments.id)),
    db.select().from(refunds).where(eq(refunds.invoiceId, invoiceId)).orderBy(asc(refunds.createdAt), asc(refunds.id)),
    db.select().from(creditNotes).where(eq(creditNotes.invoiceId, invoiceId)).orderBy(asc(creditNotes.issuedAt), asc(creditNotes.id)),
    db.select().from(ledgerEntries).where(eq(ledgerEntries.invoiceId, invoiceId)).orderBy(asc(ledgerEntries.occurredAt), asc(ledgerEntries.createdAt), asc(ledgerEntries.id)),
  ]);
  return { standing, courseTitle: course?.title ?? "", payments: paid, refunds: refunded, creditNotes: notes, ledger: entries };
}

export interface CurrencyBalance {
  currency: string;
  /** The ledger's sum: above zero owed, below zero credit held. */
  balanceMinor: number;
  /** What the learner's open invoices in the currency still ask for. */
  openOutstandingMinor: number;
  /** The earliest instalment with something left to pay, if any. */
  nextDue: { invoiceId: string; number: string; seq: number; dueAt: Date; outstandingMinor: number } | null;
}

/** The learner's balance per currency (from the ledger), with what their open invoices ask for and what falls due next. */
export async function balanceSummary(db: Executor, userId: string): Promise<CurrencyBalance[]> {
  const [balances, open] = await Promise.all([
    balancesOf(db, userId),
    db.select({ id: invoices.id }).from(invoices).where(and(eq(invoices.userId, userId), eq(invoices.status, "open"))).orderBy(desc(invoices.issuedAt)).limit(500),
  ]);
  const standings = await invoiceStandings(db, open.map((o) => o.id));
  return balances.map(({ currency, balanceMinor }) => {
    let openOutstandingMinor = 0;
    let nextDue: CurrencyBalance["nextDue"] = null;
    for (const s of standings.values()) {
      if (s.invoice.currency !== currency) continue;
      openOutstandingMinor += Math.max(0, s.outstandingMinor);
      const part = s.instalments.find((p) => p.outstandingMinor > 0);
      if (part && (!nextDue || part.dueAt.getTime() < nextDue.dueAt.getTime())) {
        nextDue = { invoiceId: s.invoice.id, number: s.invoice.number, seq: part.seq, dueAt: part.dueAt, outstandingMinor: part.outstandingMinor };
      }
    }
    return { currency, balanceMinor, openOutstandingMinor, nextDue };
  });
}
