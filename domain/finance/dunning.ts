import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { enrollments, invoiceReminders, ledgerEntries } from "../db/schema/index.js";
import { type NotificationInput, recordNotifications } from "../notifications/notify.js";
import { type BatchEvent, recordEvents } from "../outbox/record-events.js";
import type { DomainContext } from "../shared/context.js";
import { type InvoiceStanding, type LedgerPosting, invoiceStandings, lockInvoices, postLedgerEntries } from "./ledger.js";
import { notice, noticeTime, recipients } from "./invoice-notices.js";
import { formatMoney, percentOf } from "./money.js";
import { settleInvoices } from "./settle.js";

export interface DunningOptions {
  /** A due-soon reminder goes this many days before an unpaid instalment's due date. */
  dueSoonDays: number;
  /** An active enrollment is suspended this many days after an instalment of its invoice fell overdue; 0: never. */
  suspendAfterDays: number;
  appUrl: string;
}

export interface DunningRun {
  dueSoon: number;
  overdue: number;
  lateFees: number;
  suspended: number;
}

// Instalments looked at per transaction.
const BATCH = 500;
const DAY_MS = 86_400_000;

type Candidate = {
  invoice_id: string;
  seq: number;
  due_at: string;
  late_fee_kind: "none" | "fixed" | "percent";
  late_fee_value: number;
  late_fee_grace_days: number;
};

/**
 * The reminders and dunning steps due now, over the open invoices' instalments, each done once: a due-soon reminder
 * per (invoice, `due-soon:<seq>`), an overdue notice per (invoice, `overdue:<seq>`) with `invoice.overdue`, a late fee
 * per (invoice, instalment) once the fee's grace days have passed (ledger source key `late-fee:<invoice>:<seq>`), and
 * a suspension per (invoice, `suspended:<seq>`). The `invoice_reminders` row (insert … on conflict do nothing
 * returning) decides who acts, so a second run, or two at once, does nothing twice. Instalments are taken in pages,
 * each page in its own transaction with its invoices locked, so a payment racing the run is seen before a late fee.
 * Late fees follow the invoice's fee's terms (the fee row): a fee's terms cannot change once it has invoiced anyone
 * (FEE_INVOICED), so they are the terms the invoice was issued under.
 */
export async function runDunning(ctx: DomainContext, options: DunningOptions): Promise<DunningRun> {
  const run: DunningRun = { dueSoon: 0, overdue: 0, lateFees: 0, suspended: 0 };
  const now = ctx.now();
  let after: Candidate | null = null;
  for (;;) {
    const page = await candidates(ctx.db, now, options, after);
    if (page.length === 0) break;
    await ctx.db.transaction((tx) => dunPage({ ...ctx, db: tx }, page, now, options, run));
    if (page.length < BATCH) break;
    after = page[page.length - 1]!;
  }
  return run;
}

/** Instalments of open invoices with a step not yet taken (paid ones may be among them: the page's standings tell). */
async function candidates(db: Executor, now: Date, options: DunningOptions, after: Candidate | null): Promise<Candidate[]> {
  const at = now.toISOString();
  const horizon = new Date(now.getTime() + options.dueSoonDays * DAY_MS).toISOString();
  const stageMissing = (stage: ReturnType<typeof sql>) =>
    sql`not exists (select 1 from invoice_reminders r where r.invoice_id = p.invoice_id and r.stage = ${stage})`;
  const rows = await db.execute<Candidate>(sql`
    select p.invoice_id, p.seq, p.due_at, f.late_fee_kind, f.late_fee_value, f.late_fee_grace_days
    from invoice_instalments p
    join invoices i on i.id = p.invoice_id and i.status = 'open'
    join fees f on f.id = i.fee_id
    where p.due_at <= ${horizon}::timestamptz
      ${after ? sql`and (p.due_at, p.invoice_id, p.seq) > (${after.due_at}::timestamptz, ${after.invoice_id}::uuid, ${after.seq}::int)` : sql``}
      and (
        (p.due_at > ${at}::timestamptz and ${stageMissing(sql`'due-soon:' || p.seq`)})
        or (p.due_at <= ${at}::timestamptz and ${stageMissing(sql`'overdue:' || p.seq`)})
        or (f.late_fee_kind <> 'none' and f.late_fee_value > 0
            and p.due_at + f.late_fee_grace_days * interval '1 day' <= ${at}::timestamptz
            and not exists (select 1 from ledger_entries l where l.source_key = 'late-fee:' || p.invoice_id || ':' || p.seq))
        or (${options.suspendAfterDays}::int > 0
            and p.due_at + ${options.suspendAfterDays}::int * interval '1 day' <= ${at}::timestamptz
            and ${stageMissing(sql`'suspended:' || p.seq`)})
      )
    order by p.due_at, p.invoice_id, p.seq
    limit ${BATCH}`);
  // bigint comes back from raw SQL as text; amounts stay far below 2^53.
  return rows.map((r) => ({ ...r, late_fee_value: Number(r.late_fee_value) }));
}

/** The instalment, when its invoice is open and something of it is still unpaid. */
function unpaidPart(s: InvoiceStanding | undefined, seq: number) {
  const part = s?.invoice.status === "open" ? s.instalments.find((p) => p.seq === seq) : undefined;
  return part && part.outstandingMinor > 0 ? part : undefined;
}

async function dunPage(ctx: DomainContext, candidatesOfPage: readonly Candidate[], now: Date, options: DunningOptions, run: DunningRun): Promise<void> {
  // Read without locks first: most candidates are instalments already paid (of invoices still open), and locking
  // their invoices every run would hold up payments for nothing. Only the invoices with something to act on are
  // locked, and everything below checks again under the lock.
  const unlocked = await invoiceStandings(ctx.db, [...new Set(candidatesOfPage.map((c) => c.invoice_id))]);
  const page = candidatesOfPage.filter((c) => {
    return unpaidPart(unlocked.get(c.invoice_id), c.seq) !== undefined;
  });
  if (page.length === 0) return;
  const invoiceIds = [...new Set(page.map((c) => c.invoice_id))].sort();
  // A second run waits here and then finds every step taken; a payment racing this one is seen before a late fee.
  await lockInvoices(ctx.db, invoiceIds);
  const standings = await invoiceStandings(ctx.db, invoiceIds);

  // Late fees first, so the overdue notice of this run states them.
  const lateFees: LedgerPosting[] = [];
  for (const c of page) {
    const s = standings.get(c.invoice_id);
    const part = unpaidPart(s, c.seq);
    if (!s || !part) continue;
    if (c.late_fee_kind === "none" || part.dueAt.getTime() + c.late_fee_grace_days * DAY_MS > now.getTime()) continue;
    const amount = c.late_fee_kind === "fixed" ? c.late_fee_value : percentOf(part.amountMinor, c.late_fee_value);
    if (amount <= 0) continue;
    lateFees.push({
      userId: s.invoice.userId,
      currency: s.invoice.currency,
      kind: "late-fee",
      amountMinor: amount,
      invoiceId: s.invoice.id,
      instalmentSeq: c.seq,
      sourceKey: `late-fee:${s.invoice.id}:${c.seq}`,
      description: `Late fee on instalment ${c.seq}`,
    });
  }
  const charged = await postLedgerEntries(ctx, lateFees);
  const feeOf = new Map(lateFees.filter((p) => charged.has(p.sourceKey)).map((p) => [`${p.invoiceId}:${p.instalmentSeq}`, p.amountMinor]));
  run.lateFees += feeOf.size;
  if (feeOf.size > 0) await settleInvoices(ctx, [...new Set(lateFees.filter((p) => charged.has(p.sourceKey)).map((p) => p.invoiceId!))]);

  // The stages due now for instalments with something unpaid, claimed in one statement: only the claimed ones act.
  const wanted: { invoiceId: string; stage: string; doneAt: Date }[] = [];
  const suspensions: { invoiceId: string; seq: number }[] = [];
  for (const c of page) {
    // Read before this page's late fees, which are charged only on an unpaid instalment: unpaid before is unpaid now.
    const part = unpaidPart(standings.get(c.invoice_id), c.seq);
    if (!part) continue;
    const due = part.dueAt.getTime();
    if (due > now.getTime()) wanted.push({ invoiceId: c.invoice_id, stage: `due-soon:${c.seq}`, doneAt: now });
    else wanted.push({ invoiceId: c.invoice_id, stage: `overdue:${c.seq}`, doneAt: now });
    if (options.suspendAfterDays > 0 && due + options.suspendAfterDays * DAY_MS <= now.getTime()) suspensions.push({ invoiceId: c.invoice_id, seq: c.seq });
  }
  const claimed = wanted.length
    ? await ctx.db.insert(invoiceReminders).values(wanted).onConflictDoNothing().returning({ invoiceId: invoiceReminders.invoiceId, stage: invoiceReminders.stage })
    : [];

  const dueSoon: { invoiceId: string; seq: number; dueAt: Date; amountMinor: number }[] = [];
  const overdueEvents: BatchEvent<"invoice.overdue">[] = [];
  for (const r of claimed) {
    const [kind, seqText] = r.stage.split(":");
    const seq = Number(seqText);
    const s = standings.get(r.invoiceId)!;
    const part = s.instalments.find((p) => p.seq === seq)!;
    const amountDue = part.outstandingMinor + (feeOf.get(`${r.invoiceId}:${seq}`) ?? 0);
    if (kind === "due-soon") {
      dueSoon.push({ invoiceId: r.invoiceId, seq, dueAt: part.dueAt, amountMinor: amountDue });
      continue;
    }
    run.overdue += 1;
    overdueEvents.push({
      type: "invoice.overdue",
      aggregateType: "invoice",
      aggregateId: r.invoiceId,
      courseId: s.invoice.courseId,
      data: { invoiceId: r.invoiceId, userId: s.invoice.userId, courseId: s.invoice.courseId, seq, dueAt: part.dueAt.toISOString(), amountDueMinor: amountDue, currency: s.invoice.currency },
    });
  }
  await recordEvents(ctx, overdueEvents);
  run.dueSoon += dueSoon.length;
  if (dueSoon.length > 0) await recordNotifications(ctx, await dueSoonNotices(ctx, dueSoon, options.appUrl));

  run.suspended += await suspend(ctx, suspensions, standings, now);
}

/**
 * Suspends the active enrollments the overdue instalments pay for (the seat is kept; `settleInvoices` makes them
 * active again once nothing is overdue). The stage is taken only with a suspension: an enrollment not active yet
 * (pending payment) is looked at again on later runs.
 */
async function suspend(ctx: DomainContext, due: readonly { invoiceId: string; seq: number }[], standings: Awaited<ReturnType<typeof invoiceStandings>>, now: Date): Promise<number> {
  if (due.length === 0) return 0;
  const byEnrollment = new Map<string, { invoiceId: string; seq: number }>();
  for (const d of due) {
    const e = standings.get(d.invoiceId)!.invoice.enrollmentId;
    if (!byEnrollment.has(e)) byEnrollment.set(e, d);
  }
  const rows = await ctx.db
    .update(enrollments)
    .set({ status: "suspended", updatedAt: now })
    .where(and(inArray(enrollments.id, [...byEnrollment.keys()]), eq(enrollments.status, "active")))
    .returning({ id: enrollments.id, courseId: enrollments.courseId, userId: enrollments.userId });
  if (rows.length === 0) return 0;
  await ctx.db
    .insert(invoiceReminders)
    .values(rows.map((r) => ({ invoiceId: byEnrollment.get(r.id)!.invoiceId, stage: `suspended:${byEnrollment.get(r.id)!.seq}`, doneAt: now })))
    .onConflictDoNothing();
  await recordEvents(
    ctx,
    rows.map((r) => ({
      type: "enrollment.suspended" as const,
      aggregateType: "enrollment",
      aggregateId: r.id,
      courseId: r.courseId,
      data: { enrollmentId: r.id, courseId: r.courseId, userId: r.userId, invoiceId: byEnrollment.get(r.id)!.invoiceId },
    })),
  );
  return rows.length;
}

async function dueSoonNotices(ctx: DomainContext, due: readonly { invoiceId: string; seq: number; dueAt: Date; amountMinor: number }[], appUrl: string): Promise<NotificationInput[]> {
  const who = await recipients(ctx.db, due.map((d) => d.invoiceId));
  return due.flatMap((d) => {
    const to = who.get(d.invoiceId);
    if (!to) return [];
    return [notice(ctx.newId(), "invoice-due-soon", to, { seq: String(d.seq), amount: formatMoney(d.amountMinor, to.currency, to.locale), dueAt: noticeTime(d.dueAt) }, appUrl)];
  });
}

/**
 * The learner's notice of an `invoice.overdue` (with the late fee charged on the instalment, if any) or an
 * `enrollment.suspended` event, for notificationsForEvent.
 */
export async function dunningNotices(
  db: Executor,
  eventId: string,
  appUrl: string,
  what: { kind: "overdue"; invoiceId: string; seq: number; dueAt: string; amountDueMinor: number } | { kind: "suspended"; invoiceId: string; at: string },
): Promise<NotificationInput[]> {
  const to = (await recipients(db, [what.invoiceId])).get(what.invoiceId);
  if (!to) return [];
  const money = (amount: number) => formatMoney(amount, to.currency, to.locale);
  if (what.kind === "overdue") {
    const [fee] = await db
      .select({ amount: sql<string>`coalesce(sum(${ledgerEntries.amountMinor}), 0)` })
      .from(ledgerEntries)
      .where(eq(ledgerEntries.sourceKey, `late-fee:${what.invoiceId}:${what.seq}`));
    const lateFee = Number(fee?.amount ?? 0);
    const values = { seq: String(what.seq), dueAt: noticeTime(what.dueAt), amount: money(what.amountDueMinor), lateFee: money(lateFee) };
    return [notice(eventId, lateFee > 0 ? "invoice-overdue-late-fee" : "invoice-overdue", to, values, appUrl)];
  }
  const standing = (await invoiceStandings(db, [what.invoiceId])).get(what.invoiceId);
  const overdue = standing?.instalments.find((p) => p.outstandingMinor > 0 && p.dueAt.getTime() <= new Date(what.at).getTime());
  return [notice(eventId, "enrollment-suspended", to, { seq: String(overdue?.seq ?? 1), amount: money(overdue?.outstandingMinor ?? standing?.outstandingMinor ?? 0) }, appUrl)];
}
