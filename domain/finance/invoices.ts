import { and, asc, eq, inArray, isNotNull, isNull, notExists, or, sql } from "drizzle-orm";
import { enrollments, type Fee, feeDiscounts, type FeeRequirement, feeInstalments, fees, type InvoiceLine, invoiceInstalments, invoices, ledgerEntries, users } from "../db/schema/index.js";
import { type BatchEvent, recordEvents } from "../outbox/record-events.js";
import type { DomainContext } from "../shared/context.js";
import { nextDocumentNumbers } from "./document-numbers.js";
import { type LedgerPosting, lockLearnerInvoices, moveCredit, postLedgerEntries } from "./ledger.js";
import { percentOf } from "./money.js";
import { settleInvoices } from "./settle.js";

const DAY_MS = 86_400_000;

/** The enrollments that are billed: those that hold a seat the learner has taken (an offer not yet taken is not). */
const BILLED_STATUSES = ["active", "pending-payment", "suspended"] as const;

export interface FeePlanPart {
  seq: number;
  amountMinor: number;
  dueAt: Date | null;
  dueAfterDays: number;
}

export interface LiveDiscount {
  kind: "percent" | "fixed" | "waiver";
  value: number;
  reason: string;
}

export interface InvoiceDraft {
  subtotalMinor: number;
  discountMinor: number;
  totalMinor: number;
  lines: InvoiceLine[];
  instalments: { seq: number; amountMinor: number; dueAt: Date }[];
  /** The last instalment's due date. */
  dueAt: Date;
}

/** What a discount takes off a fee's amount: percent (basis points, half up), fixed, or the whole (waiver); never more than the amount. */
export function discountAmount(amountMinor: number, discount: LiveDiscount | undefined): number {
  if (!discount) return 0;
  const off = discount.kind === "waiver" ? amountMinor : discount.kind === "percent" ? percentOf(amountMinor, discount.value) : discount.value;
  return Math.min(amountMinor, Math.max(0, off));
}

/**
 * What an invoice for the fee says when issued at `issuedAt`: the fee as a line, the learner's discount as a line,
 * and the instalments from the fee's plan (fixed dates, or days after issue; a date already past is due at issue).
 * The discount comes off the last instalments first, the rule `instalmentStates` applies to later reductions, so
 * what falls due soonest stays as planned. Pure.
 */
export function draftInvoice(
  fee: Pick<Fee, "name" | "term" | "amountMinor" | "dueAt" | "dueAfterDays">,
  plan: readonly FeePlanPart[],
  discount: LiveDiscount | undefined,
  issuedAt: Date,
  hold?: { requirement: FeeRequirement; until: Date | null },
): InvoiceDraft {
  const subtotalMinor = fee.amountMinor;
  const discountMinor = discountAmount(subtotalMinor, discount);
  const dueOf = (dueAt: Date | null, days: number) => {
    const at = dueAt ?? new Date(issuedAt.getTime() + days * DAY_MS);
    return at.getTime() < issuedAt.getTime() ? issuedAt : at;
  };
  const parts =
    plan.length > 0
      ? [...plan].sort((a, b) => a.seq - b.seq).map((p) => ({ seq: p.seq, amountMinor: p.amountMinor, dueAt: dueOf(p.dueAt, p.dueAfterDays) }))
      : [{ seq: 1, amountMinor: subtotalMinor, dueAt: dueOf(fee.dueAt, fee.dueAfterDays) }];
  // A held seat is released at `until`: what the fee asks first may not fall due after that (the invoice would say
  // "due in 14 days" while the seat goes in 48 hours). The whole fee for `full`, the first instalment otherwise.
  if (hold?.until && hold.requirement !== "none") {
    const cap = new Date(Math.max(hold.until.getTime(), issuedAt.getTime()));
    for (const p of hold.requirement === "full" ? parts : parts.slice(0, 1)) if (p.dueAt.getTime() > cap.getTime()) p.dueAt = cap;
  }
  let off = discountMinor;
  for (let i = parts.length - 1; i >= 0 && off > 0; i--) {
    const take = Math.min(parts[i]!.amountMinor, off);
    parts[i]!.amountMinor -= take;
    off -= take;
  }
  const lines: InvoiceLine[] = [{ description: fee.term ? `${fee.name} (${fee.term})` : fee.name, amountMinor: subtotalMinor }];
  if (discountMinor > 0) lines.push({ description: discount!.kind === "waiver" ? `Waiver: ${discount!.reason}` : `Discount: ${discount!.reason}`, amountMinor: -discountMinor });
  const dueAt = new Date(Math.max(...parts.map((p) => p.dueAt.getTime())));
  return { subtotalMinor, discountMinor, totalMinor: subtotalMinor - discountMinor, lines, instalments: parts, dueAt };
}

/**
 * Issues, in the caller's transaction, the invoice of every fee that applies to the enrollment (the course's
 * fees and its section's, not retired) and has none for it yet, so a held seat's invoices all exist together.
 * Exactly once per (enrollment, fee): the enrollment row is locked first, so two deliveries of one event take
 * turns and the second finds the invoices there. Then credit the learner holds moves onto them, they are
 * settled (a zero invoice is paid at once, which activates a waived held seat) and `invoice.issued` is recorded.
 * Returns the ids issued now (none for an enrollment that is not billed: waitlisted, offered or ended).
 */
export async function issueInvoicesForEnrollment(ctx: DomainContext, enrollmentId: string): Promise<string[]> {
  return (await issueInvoicesForEnrollments(ctx, [enrollmentId])).get(enrollmentId) ?? [];
}

/**
 * `issueInvoicesForEnrollment` for many enrollments at once (a Service Bus batch), set-based: one statement per
 * table for the whole batch, and the gap-free numbers taken in ONE counter update as late as possible (after every
 * read), since the counter row stays locked until the transaction commits and every other issue waits on it.
 * `contextOf` gives each enrollment's own context (its event's actor and trace) for the events recorded about it.
 * Returns the ids issued now per enrollment.
 */
export async function issueInvoicesForEnrollments(
  ctx: DomainContext,
  enrollmentIds: readonly string[],
  contextOf: (enrollmentId: string) => DomainContext = () => ctx,
): Promise<Map<string, string[]>> {
  const issued = new Map<string, string[]>();
  const wanted = [...new Set(enrollmentIds)];
  if (wanted.length === 0) return issued;
  // Most courses have no fee: one indexed read says so before anything is locked (every enrollment event of the
  // platform comes through here, beside the grading and progress work on the same cores).
  const [anyFee] = await ctx.db
    .select({ id: fees.id })
    .from(fees)
    .innerJoin(enrollments, eq(enrollments.courseId, fees.courseId))
    .where(and(inArray(enrollments.id, wanted), isNull(fees.retiredAt)))
    .limit(1);
  if (!anyFee) return issued;
  // Locked in id order: two batches naming the same enrollments cannot deadlock.
  const locked = await ctx.db
    .select({ id: enrollments.id, courseId: enrollments.courseId, userId: enrollments.userId, sectionId: enrollments.sectionId, status: enrollments.status, paymentDueAt: enrollments.paymentDueAt })
    .from(enrollments)
    .where(inArray(enrollments.id, wanted))
    .orderBy(asc(enrollments.id))
    .for("update");
  const billed = new Map(locked.filter((e) => (BILLED_STATUSES as readonly string[]).includes(e.status)).map((e) => [e.id, e]));
  if (billed.size === 0) return issued;
  const dueRows = await ctx.db
    .select({ fee: fees, enrollmentId: enrollments.id })
    .from(fees)
    .innerJoin(enrollments, and(eq(enrollments.courseId, fees.courseId), or(isNull(fees.sectionId), eq(fees.sectionId, enrollments.sectionId))))
    .where(
      and(
        inArray(enrollments.id, [...billed.keys()]),
        isNull(fees.retiredAt),
        notExists(ctx.db.select({ one: sql`1` }).from(invoices).where(and(eq(invoices.enrollmentId, enrollments.id), eq(invoices.feeId, fees.id)))),
      ),
    )
    .orderBy(asc(fees.createdAt), asc(fees.id));
  if (dueRows.length === 0) return issued;
  // In the order asked (the events' order), each enrollment's fees oldest first.
  const order = new Map(wanted.map((id, i) => [id, i]));
  dueRows.sort((a, b) => order.get(a.enrollmentId)! - order.get(b.enrollmentId)!);
  const feeIds = [...new Set(dueRows.map((r) => r.fee.id))];
  const userIds = [...new Set(dueRows.map((r) => billed.get(r.enrollmentId)!.userId))];
  const [plans, discounts, learners] = await Promise.all([
    ctx.db.select().from(feeInstalments).where(inArray(feeInstalments.feeId, feeIds)),
    ctx.db
      .select({ feeId: feeDiscounts.feeId, userId: feeDiscounts.userId, kind: feeDiscounts.kind, value: feeDiscounts.value, reason: feeDiscounts.reason })
      .from(feeDiscounts)
      .where(and(inArray(feeDiscounts.feeId, feeIds), inArray(feeDiscounts.userId, userIds), isNull(feeDiscounts.revokedAt))),
    ctx.db.select({ id: users.id, displayName: users.displayName, email: users.email }).from(users).where(inArray(users.id, userIds)),
  ]);
  const now = ctx.now();
  const drafts = dueRows.map(({ fee, enrollmentId }) => {
    const enrollment = billed.get(enrollmentId)!;
    return {
      id: ctx.newId(),
      fee,
      enrollment,
      learner: learners.find((l) => l.id === enrollment.userId),
      draft: draftInvoice(
        fee,
        plans.filter((p) => p.feeId === fee.id),
        discounts.find((d) => d.feeId === fee.id && d.userId === enrollment.userId),
        now,
        enrollment.status === "pending-payment" ? { requirement: fee.requirement, until: enrollment.paymentDueAt } : undefined,
      ),
    };
  });
  // Credit the learners hold moves onto the new invoices; most hold none: one query for the batch says who does. It
  // locks their invoices, so it comes before the counter: the counter's lock never waits behind a money change.
  const holders = await creditHolders(ctx, [...new Set(drafts.filter((d) => d.draft.totalMinor > 0).map((d) => d.enrollment.userId))]);
  // Everything read: the numbers now, and only the statements that need them (or the rows they name) after.
  const numbers = await nextDocumentNumbers(ctx.db, "INV", now, drafts.length);
  const numbered = drafts.map((d, i) => ({ ...d, number: numbers[i]! }));
  const inserted = await ctx.db
    .insert(invoices)
    .values(
      numbered.map(({ id, fee, enrollment, learner, number, draft }) => ({
        id,
        number: number.number,
        year: number.year,
        userId: enrollment.userId,
        enrollmentId: enrollment.id,
        feeId: fee.id,
        courseId: enrollment.courseId,
        currency: fee.currency,
        subtotalMinor: draft.subtotalMinor,
        discountMinor: draft.discountMinor,
        totalMinor: draft.totalMinor,
        lines: draft.lines,
        billToName: learner?.displayName ?? "",
        billToEmail: learner?.email ?? "",
        status: "open" as const,
        issuedAt: now,
        dueAt: draft.dueAt,
        createdAt: now,
        updatedAt: now,
      })),
    )
    .onConflictDoNothing({ target: [invoices.enrollmentId, invoices.feeId] })
    .returning({ id: invoices.id });
  // Anything else would leave a gap in the numbers taken above: roll back and let the delivery be retried.
  if (inserted.length !== numbered.length) throw new Error(`invoices: another issue of enrollments ${[...billed.keys()].join(", ")} raced this one`);
  await ctx.db.insert(invoiceInstalments).values(numbered.flatMap(({ id, draft }) => draft.instalments.map((p) => ({ invoiceId: id, ...p }))));
  const postings: LedgerPosting[] = numbered.flatMap(({ id, fee, enrollment, number, draft }) => {
    const base = { userId: enrollment.userId, currency: fee.currency, invoiceId: id, occurredAt: now };
    const out: LedgerPosting[] = [{ ...base, kind: "charge", amountMinor: draft.subtotalMinor, sourceKey: `charge:${id}`, description: `Invoice ${number.number}` }];
    if (draft.discountMinor > 0) out.push({ ...base, kind: "discount", amountMinor: -draft.discountMinor, sourceKey: `discount:${id}`, description: `Discount on ${number.number}` });
    return out;
  });
  await postLedgerEntries(ctx, postings);
  // One insert per context (an event's actor and trace): one for a single enrollment.
  const eventsBy = new Map<DomainContext, BatchEvent<"invoice.issued">[]>();
  for (const { id, fee, enrollment, number, draft } of numbered) {
    const c = contextOf(enrollment.id);
    const list = eventsBy.get(c) ?? [];
    list.push({
      type: "invoice.issued",
      aggregateType: "invoice",
      aggregateId: id,
      courseId: enrollment.courseId,
      data: {
        invoiceId: id,
        number: number.number,
        userId: enrollment.userId,
        courseId: enrollment.courseId,
        enrollmentId: enrollment.id,
        currency: fee.currency,
        totalMinor: draft.totalMinor,
        dueAt: draft.dueAt.toISOString(),
      },
    });
    eventsBy.set(c, list);
  }
  for (const [c, list] of eventsBy) await recordEvents(c, list);
  const owing = numbered.filter((d) => d.draft.totalMinor > 0);
  const toSettle = new Set<string>();
  for (const { id, fee, enrollment } of owing) {
    if (!holders.has(`${enrollment.userId}:${fee.currency}`)) continue;
    if ((await moveCredit(contextOf(enrollment.id), enrollment.userId, fee.currency, [id])).size > 0) toSettle.add(enrollment.id);
  }
  for (const d of numbered) issued.set(d.enrollment.id, [...(issued.get(d.enrollment.id) ?? []), d.id]);
  // Settling changes nothing when an enrollment's new invoices are all owed in full (open, as inserted) and no
  // credit moved, if the enrollment is active (no seat to activate) or held with a new invoice that asks for
  // payment first (owed in full, its first instalment unpaid: the seat cannot be activated yet). A zero invoice,
  // moved credit, a suspended seat, or a held seat whose new invoices ask for nothing first is settled.
  for (const [enrollmentId, ids] of issued) {
    const mine = numbered.filter((d) => d.enrollment.id === enrollmentId);
    const status = mine[0]!.enrollment.status;
    const unchanged =
      !toSettle.has(enrollmentId) &&
      mine.every((d) => d.draft.totalMinor > 0) &&
      (status === "active" || (status === "pending-payment" && mine.some((d) => d.fee.requirement !== "none")));
    if (!unchanged) await settleInvoices(contextOf(enrollmentId), ids);
  }
  return issued;
}

/**
 * `user:currency` of the learners with an overpaid invoice (credit `moveCredit` moves). Their invoices are locked
 * first (lockLearnerInvoices, id order): a money change running at the same time is seen, and moving credit needs
 * no other lock.
 */
async function creditHolders(ctx: DomainContext, userIds: string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  await lockLearnerInvoices(ctx.db, userIds);
  const rows = await ctx.db
    .selectDistinct({ userId: ledgerEntries.userId, currency: ledgerEntries.currency })
    .from(ledgerEntries)
    .where(and(inArray(ledgerEntries.userId, userIds), isNotNull(ledgerEntries.invoiceId)))
    .groupBy(ledgerEntries.userId, ledgerEntries.currency, ledgerEntries.invoiceId)
    .having(sql`sum(${ledgerEntries.amountMinor}) < 0`);
  return new Set(rows.map((r) => `${r.userId}:${r.currency}`));
}
