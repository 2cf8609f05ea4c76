import { and, asc, eq, inArray, isNotNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type Invoice, invoiceInstalments, invoices, type LedgerKind, ledgerEntries } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { UUID_PATTERN } from "../shared/uuid.js";
import { type InstalmentState, instalmentStates } from "./instalments.js";

/**
 * One ledger posting. `amountMinor` is signed from the learner's side: positive adds to what they owe (charge,
 * late fee, refund, credit-out), negative takes from it (discount, payment, credit note, credit-in).
 * `sourceKey` is what makes it happen once:
 *   charge:<invoiceId>, discount:<invoiceId>, late-fee:<invoiceId>:<seq>, payment:<paymentId>, refund:<refundId>,
 *   credit-note:<creditNoteId>, credit-out:<transferId>, credit-in:<transferId>.
 */
export interface LedgerPosting {
  userId: string;
  currency: string;
  kind: LedgerKind;
  amountMinor: number;
  sourceKey: string;
  description: string;
  invoiceId?: string | null;
  paymentId?: string | null;
  refundId?: string | null;
  creditNoteId?: string | null;
  instalmentSeq?: number | null;
  occurredAt?: Date;
}

const SIGN: Record<LedgerKind, 1 | -1> = {
  charge: 1,
  "late-fee": 1,
  refund: 1,
  "credit-out": 1,
  discount: -1,
  payment: -1,
  "credit-note": -1,
  "credit-in": -1,
};

/**
 * Appends postings to the ledger, each once (a posting whose source key is there already is skipped). Returns the
 * source keys that were new. The ledger is never updated or deleted from (a trigger refuses it): a correction
 * is a new posting. Must run in the transaction that makes the change the postings record.
 */
export async function postLedgerEntries(ctx: DomainContext, postings: readonly LedgerPosting[]): Promise<Set<string>> {
  if (postings.length === 0) return new Set();
  const at = ctx.now();
  const rows = postings.map((p) => {
    if (!Number.isSafeInteger(p.amountMinor) || p.amountMinor === 0 || Math.sign(p.amountMinor) !== SIGN[p.kind]) {
      throw new RangeError(`ledger: a ${p.kind} posting is a non-zero whole amount with sign ${SIGN[p.kind]} (got ${p.amountMinor})`);
    }
    return {
      id: ctx.newId(),
      userId: p.userId,
      currency: p.currency,
      kind: p.kind,
      amountMinor: p.amountMinor,
      invoiceId: p.invoiceId ?? null,
      paymentId: p.paymentId ?? null,
      refundId: p.refundId ?? null,
      creditNoteId: p.creditNoteId ?? null,
      instalmentSeq: p.instalmentSeq ?? null,
      sourceKey: p.sourceKey,
      description: p.description,
      occurredAt: p.occurredAt ?? at,
      recordedByUserId: ctx.actor.userId,
      createdAt: at,
    };
  });
  const inserted = await ctx.db.insert(ledgerEntries).values(rows).onConflictDoNothing({ target: ledgerEntries.sourceKey }).returning({ sourceKey: ledgerEntries.sourceKey });
  return new Set(inserted.map((r) => r.sourceKey));
}

/**
 * Locks the invoices' rows (in id order: no deadlock between two changes naming the same invoices). Every change of
 * money on an invoice takes it before it decides anything from the ledger (what is left to refund, to credit, to
 * pay), so two changes of one invoice happen one after the other and each sees the other's postings.
 */
export async function lockInvoices(db: Executor, invoiceIds: readonly string[]): Promise<void> {
  if (invoiceIds.length === 0) return;
  await db
    .select({ id: invoices.id })
    .from(invoices)
    .where(inArray(invoices.id, [...new Set(invoiceIds)]))
    .orderBy(asc(invoices.id))
    .for("update");
}

export type LockedInvoice = Pick<Invoice, "id" | "status" | "dueAt">;

/**
 * Locks every invoice of the learners (in the currency, when named), in id order (the order lockInvoices uses), and
 * returns them. A change that starts on one invoice and later moves credit between the learner's invoices takes this
 * first: it then takes no lock out of order (no deadlock with a change starting on another of them). Invoices come
 * before the document counter in the lock order.
 */
export async function lockLearnerInvoices(db: Executor, userIds: string | readonly string[], currency?: string): Promise<LockedInvoice[]> {
  const learners = typeof userIds === "string" ? [userIds] : [...new Set(userIds)];
  if (learners.length === 0) return [];
  const mine = learners.length === 1 ? eq(invoices.userId, learners[0]!) : inArray(invoices.userId, learners);
  return db
    .select({ id: invoices.id, status: invoices.status, dueAt: invoices.dueAt })
    .from(invoices)
    .where(currency === undefined ? mine : and(mine, eq(invoices.currency, currency)))
    .orderBy(asc(invoices.id))
    .for("update");
}

/**
 * The invoice, locked with every other invoice of its learner in its currency (lockLearnerInvoices).
 * Not an id (a provider's metadata, a path): undefined, like an unknown invoice.
 */
export async function lockInvoice(db: Executor, invoiceId: string): Promise<Invoice | undefined> {
  if (!UUID_PATTERN.test(invoiceId)) return undefined;
  const [owner] = await db.select({ userId: invoices.userId, currency: invoices.currency }).from(invoices).where(eq(invoices.id, invoiceId));
  if (!owner) return undefined;
  await lockLearnerInvoices(db, owner.userId, owner.currency);
  // Read under the lock: what a change committed before it took the lock is seen.
  const [invoice] = await db.select().from(invoices).where(eq(invoices.id, invoiceId));
  return invoice;
}

/** A learner's balance per currency: above zero they owe, below zero they hold credit. Currencies with entries only. */
export async function balancesOf(db: Executor, userId: string): Promise<{ currency: string; balanceMinor: number }[]> {
  const rows = await db
    .select({ currency: ledgerEntries.currency, balance: sql<string>`sum(${ledgerEntries.amountMinor})` })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.userId, userId))
    .groupBy(ledgerEntries.currency)
    .orderBy(asc(ledgerEntries.currency));
  return rows.map((r) => ({ currency: r.currency, balanceMinor: Number(r.balance) }));
}

/** An invoice with what its ledger says about it now. */
export interface InvoiceStanding {
  invoice: Invoice;
  /** What the invoice asks for now: its total, plus late fees, less credit notes. */
  chargedMinor: number;
  /** Paid net of refunds, with credit moved in or out. */
  settledMinor: number;
  /** What credit notes took back (a positive number). */
  creditedMinor: number;
  /** The sum of the invoice's ledger entries: above zero still owed, below zero overpaid (credit). */
  outstandingMinor: number;
  instalments: InstalmentState[];
}

/** The standing of each invoice named (those that exist), in one round trip per table. */
export async function invoiceStandings(db: Executor, invoiceIds: readonly string[]): Promise<Map<string, InvoiceStanding>> {
  const out = new Map<string, InvoiceStanding>();
  if (invoiceIds.length === 0) return out;
  const ids = [...new Set(invoiceIds)];
  const [rows, plan, sums] = await Promise.all([
    db.select().from(invoices).where(inArray(invoices.id, ids)),
    db.select().from(invoiceInstalments).where(inArray(invoiceInstalments.invoiceId, ids)),
    db
      .select({
        invoiceId: ledgerEntries.invoiceId,
        kind: ledgerEntries.kind,
        seq: ledgerEntries.instalmentSeq,
        amount: sql<string>`sum(${ledgerEntries.amountMinor})`,
      })
      .from(ledgerEntries)
      .where(inArray(ledgerEntries.invoiceId, ids))
      .groupBy(ledgerEntries.invoiceId, ledgerEntries.kind, ledgerEntries.instalmentSeq),
  ]);
  for (const invoice of rows) {
    let charged = 0;
    let settled = 0;
    let reduced = 0;
    const lateFees = new Map<number, number>();
    for (const s of sums) {
      if (s.invoiceId !== invoice.id) continue;
      const amount = Number(s.amount);
      switch (s.kind) {
        case "charge":
        case "discount":
          charged += amount;
          break;
        case "late-fee":
          charged += amount;
          lateFees.set(s.seq ?? 1, (lateFees.get(s.seq ?? 1) ?? 0) + amount);
          break;
        case "credit-note":
          charged += amount;
          reduced -= amount;
          break;
        default:
          // payment, refund, credit-in, credit-out: money, not what is asked
          settled -= amount;
      }
    }
    const parts = plan.filter((p) => p.invoiceId === invoice.id).map((p) => ({ seq: p.seq, amountMinor: p.amountMinor, dueAt: p.dueAt }));
    out.set(invoice.id, {
      invoice,
      chargedMinor: charged,
      settledMinor: settled,
      creditedMinor: reduced,
      outstandingMinor: charged - settled,
      instalments: instalmentStates(parts, { lateFees, reducedMinor: reduced, settledMinor: settled }),
    });
  }
  return out;
}

/**
 * Moves the learner's credit (what overpaid invoices in the currency hold) onto an invoice that is owed, up to
 * what it owes: a credit-out on each overpaid invoice and a credit-in on the target, so the balance is unchanged
 * and each invoice's outstanding amount says what is really owed on it. Returns the amount moved.
 */
export async function applyAvailableCredit(ctx: DomainContext, userId: string, currency: string, toInvoiceId: string): Promise<number> {
  // Credit is moved out of invoices this change did not name: lock them all (the learner's invoices in the
  // currency, the target among them, in id order) before reading what they hold, or a refund of one of them
  // running at the same time could take the same money out twice.
  await lockLearnerInvoices(ctx.db, userId, currency);
  return (await moveCredit(ctx, userId, currency, [toInvoiceId])).get(toInvoiceId) ?? 0;
}

/**
 * Moves credit, as applyAvailableCredit does, onto each target in turn (what is left after one goes to the next),
 * reading the ledger once. The caller holds lockLearnerInvoices for the learner (and currency). Returns the amount
 * moved onto each target that received any.
 */
export async function moveCredit(ctx: DomainContext, userId: string, currency: string, toInvoiceIds: readonly string[]): Promise<Map<string, number>> {
  const moved = new Map<string, number>();
  if (toInvoiceIds.length === 0) return moved;
  const rows = await ctx.db
    .select({ invoiceId: ledgerEntries.invoiceId, outstanding: sql<string>`sum(${ledgerEntries.amountMinor})` })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.userId, userId), eq(ledgerEntries.currency, currency), isNotNull(ledgerEntries.invoiceId)))
    .groupBy(ledgerEntries.invoiceId)
    .orderBy(asc(ledgerEntries.invoiceId));
  // Invoice id → outstanding, in id order (credit is taken from the lowest ids first).
  const outstanding = new Map(rows.map((r) => [r.invoiceId!, Number(r.outstanding)]));
  const postings: LedgerPosting[] = [];
  for (const toInvoiceId of toInvoiceIds) {
    let owed = outstanding.get(toInvoiceId) ?? 0;
    for (const [invoiceId, held] of outstanding) {
      if (owed <= 0) break;
      const credit = -held;
      if (invoiceId === toInvoiceId || credit <= 0) continue;
      const amount = Math.min(credit, owed);
      const transferId = ctx.newId();
      postings.push(
        { userId, currency, kind: "credit-out", amountMinor: amount, invoiceId, sourceKey: `credit-out:${transferId}`, description: "Credit moved to another invoice" },
        { userId, currency, kind: "credit-in", amountMinor: -amount, invoiceId: toInvoiceId, sourceKey: `credit-in:${transferId}`, description: "Credit from an overpaid invoice" },
      );
      outstanding.set(invoiceId, held + amount);
      owed -= amount;
      moved.set(toInvoiceId, (moved.get(toInvoiceId) ?? 0) + amount);
    }
    if (outstanding.has(toInvoiceId)) outstanding.set(toInvoiceId, owed);
  }
  await postLedgerEntries(ctx, postings);
  return moved;
}
