import { and, asc, eq, inArray, isNull } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { courses, creditNotes, invoiceInstalments, invoices, users } from "../db/schema/index.js";
import { composeEmail, isPlaceholderEmail } from "../notifications/compose-email.js";
import type { NotificationInput } from "../notifications/notify.js";
import type { TemplateKey } from "../notifications/templates.js";
import { dayOf } from "../shared/day.js";
import type { FinanceDocumentKind } from "./invoice-view.js";
import { formatMoney } from "./money.js";

/**
 * A date and time in finance emails and notices: written the same in every language (no English month or day
 * names in a Spanish email), in UTC, like the invoice's due dates.
 */
export const noticeTime = (d: Date | string) => {
  const iso = new Date(d).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
};

/** The signed link an email gives to a document's PDF (it opens without signing in, and expires). */
export type DocumentUrl = (kind: FinanceDocumentKind, id: string) => Promise<string>;

/**
 * The learner's notice of an issued invoice or credit note, for notificationsForEvent: transactional (category
 * null: inbox and email, no opt-out, never push or SMS), in their language, with the amounts formatted for them
 * and a link to the PDF. The inbox entry leads to the invoice's page (the email's link expires).
 */
export async function invoiceNotices(
  db: Executor,
  eventId: string,
  appUrl: string,
  documentUrl: DocumentUrl,
  what: { kind: "invoice"; invoiceId: string } | { kind: "credit-note"; creditNoteId: string; invoiceId: string },
): Promise<NotificationInput[]> {
  const to = (await recipients(db, [what.invoiceId])).get(what.invoiceId);
  if (!to) return [];
  const money = (amount: number) => formatMoney(amount, to.currency, to.locale);
  const invoicePage = `${appUrl.replace(/\/+$/, "")}/invoices/${what.invoiceId}`;
  let template: TemplateKey;
  let values: Record<string, string>;
  if (what.kind === "invoice") {
    const plan = await db.select().from(invoiceInstalments).where(eq(invoiceInstalments.invoiceId, what.invoiceId)).orderBy(asc(invoiceInstalments.seq));
    template = "invoice-issued";
    values = {
      total: money(to.totalMinor),
      dueDates: plan.map((p) => `${dayOf(p.dueAt)}: ${money(p.amountMinor)}`).join("; "),
      downloadUrl: await documentUrl("invoice", what.invoiceId),
    };
  } else {
    const [note] = await db.select({ number: creditNotes.number, amountMinor: creditNotes.amountMinor, reason: creditNotes.reason }).from(creditNotes).where(eq(creditNotes.id, what.creditNoteId));
    if (!note) return [];
    template = "credit-note-issued";
    values = { creditNoteNumber: note.number, amount: money(note.amountMinor), reason: note.reason, downloadUrl: await documentUrl("credit-note", what.creditNoteId) };
  }
  return [notice(eventId, template, to, values, appUrl, invoicePage)];
}

export interface InvoiceRecipient {
  invoiceId: string;
  number: string;
  currency: string;
  totalMinor: number;
  courseId: string;
  course: string;
  userId: string;
  email: string;
  name: string;
  locale: string;
}

/** The invoices with their learner (key-share locked until recorded, as notificationsForEvent does) and course title. */
export async function recipients(db: Executor, invoiceIds: readonly string[]): Promise<Map<string, InvoiceRecipient>> {
  if (invoiceIds.length === 0) return new Map();
  const rows = await db
    .select({
      invoiceId: invoices.id,
      number: invoices.number,
      currency: invoices.currency,
      totalMinor: invoices.totalMinor,
      courseId: invoices.courseId,
      course: courses.title,
      userId: users.id,
      email: users.email,
      name: users.displayName,
      locale: users.locale,
    })
    .from(invoices)
    .innerJoin(users, eq(users.id, invoices.userId))
    .innerJoin(courses, eq(courses.id, invoices.courseId))
    .where(and(inArray(invoices.id, [...new Set(invoiceIds)]), isNull(users.erasedAt)))
    .for("key share", { of: users });
  return new Map(rows.map((r) => [r.invoiceId, r]));
}

/**
 * A learner's transactional notice about an invoice (category null: inbox and email, no opt-out, never push or SMS),
 * in their language. The inbox entry leads to `url`, or to the email's action link.
 */
export function notice(eventId: string, template: TemplateKey, to: InvoiceRecipient, values: Record<string, string>, appUrl: string, url?: string): NotificationInput {
  const email = composeEmail(template, to.locale, to.email, { appUrl, name: to.name, number: to.number, course: to.course, invoiceId: to.invoiceId, ...values });
  return {
    userId: to.userId,
    eventId,
    template,
    category: null,
    pushAndSms: false,
    title: email.subject,
    body: email.summary,
    url: url ?? email.actionUrl,
    subject: { type: "invoice", id: to.invoiceId },
    email: isPlaceholderEmail(to.email) ? null : email,
  };
}

/**
 * The learner's notice that their seat is held until they pay (`enrollment.pending-payment`), or was released
 * unpaid (`enrollment.payment-expired`), for notificationsForEvent: transactional, in their language.
 */
export async function seatHoldNotices(
  db: Executor,
  eventId: string,
  appUrl: string,
  what: { kind: "held"; userId: string; courseId: string; paymentDueAt: string } | { kind: "released"; userId: string; courseId: string },
): Promise<NotificationInput[]> {
  const [to] = await db
    .select({ userId: users.id, email: users.email, name: users.displayName, locale: users.locale, course: courses.title })
    .from(users)
    .innerJoin(courses, eq(courses.id, what.courseId))
    .where(and(eq(users.id, what.userId), isNull(users.erasedAt)))
    .for("key share", { of: users });
  if (!to) return [];
  const template: TemplateKey = what.kind === "held" ? "seat-held" : "seat-released";
  const values = { appUrl, name: to.name, course: to.course, courseId: what.courseId, ...(what.kind === "held" ? { dueAt: noticeTime(what.paymentDueAt) } : {}) };
  const email = composeEmail(template, to.locale, to.email, values);
  return [
    {
      userId: to.userId,
      eventId,
      template,
      category: null,
      pushAndSms: false,
      title: email.subject,
      body: email.summary,
      url: email.actionUrl,
      email: isPlaceholderEmail(to.email) ? null : email,
    },
  ];
}
