import { and, eq, gte, inArray, lt } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { payments, refunds } from "../db/schema/index.js";
import type { Period, PaymentProvider, ProviderBalanceTransaction } from "./payment-provider.js";

export interface ReconciliationLine {
  /** The provider's balance transaction (null: missing at the provider). */
  providerTransactionId: string | null;
  /** The provider's payment (PaymentIntent) or refund id. */
  providerObjectId: string | null;
  kind: "payment" | "refund";
  providerAmountMinor: number | null;
  providerCurrency: string | null;
  /** Ringlet's payment or refund (null: missing in the ledger). */
  ledgerId: string | null;
  ledgerAmountMinor: number | null;
  ledgerCurrency: string | null;
  payoutId: string | null;
}

export interface PayoutLine {
  id: string;
  status: string;
  amountMinor: number;
  currency: string;
  arrivalDate: Date;
  /** What the ledger holds for the payout's charges less its refunds. */
  ledgerMinor: number;
  /** The provider's fees on them (the payout is what is left). */
  feesMinor: number;
}

export interface Reconciliation {
  period: Period;
  matched: ReconciliationLine[];
  /** Money the provider moved that Ringlet never recorded (a lost webhook). */
  missingInLedger: ReconciliationLine[];
  /** Provider payments and refunds Ringlet recorded in the period that the provider's balance does not show. */
  missingAtProvider: ReconciliationLine[];
  /** Both sides know it, but the amount or currency differs. */
  mismatched: ReconciliationLine[];
  payouts: PayoutLine[];
}

/**
 * The provider's balance movements and payouts of the period against the payments and refunds Ringlet recorded,
 * matched by provider id: one lookup per table for the whole period.
 */
export async function reconcile(db: Executor, provider: PaymentProvider, period: Period): Promise<Reconciliation> {
  const [transactions, payouts] = await Promise.all([provider.listBalanceTransactions(period), provider.listPayouts(period)]);
  // Charges (by their payment) and refunds; fees, payouts and adjustments are not Ringlet's records.
  const money = transactions.filter((t) => (t.refundId ? t.type === "refund" || t.type === "payment_refund" : (t.type === "charge" || t.type === "payment") && t.paymentId !== null));
  const paymentIds = money.flatMap((t) => (t.refundId ? [] : [t.paymentId!]));
  const refundIds = money.flatMap((t) => (t.refundId ? [t.refundId] : []));
  const inPeriod = (at: typeof payments.receivedAt | typeof refunds.createdAt) => and(gte(at, period.from), lt(at, period.to));
  const [paid, refunded, paidInPeriod, refundedInPeriod] = await Promise.all([
    paymentIds.length ? db.select().from(payments).where(inArray(payments.providerPaymentId, paymentIds)) : [],
    refundIds.length ? db.select().from(refunds).where(inArray(refunds.providerRefundId, refundIds)) : [],
    db.select().from(payments).where(and(eq(payments.method, "stripe"), inPeriod(payments.receivedAt))),
    db.select().from(refunds).where(and(eq(refunds.method, "provider"), eq(refunds.status, "succeeded"), inPeriod(refunds.createdAt))),
  ]);
  const result: Reconciliation = { period, matched: [], missingInLedger: [], missingAtProvider: [], mismatched: [], payouts: [] };
  const ledgerByPayout = new Map<string, { ledger: number; fees: number }>();
  for (const t of money) {
    const isRefund = Boolean(t.refundId);
    const ledger = isRefund ? refunded.find((r) => r.providerRefundId === t.refundId) : paid.find((p) => p.providerPaymentId === t.paymentId);
    const line = lineOf(t, isRefund ? "refund" : "payment", ledger ?? null);
    if (!ledger) result.missingInLedger.push(line);
    else if (Math.abs(t.amountMinor) !== ledger.amountMinor || t.currency.toUpperCase() !== ledger.currency) result.mismatched.push(line);
    else result.matched.push(line);
    if (ledger && t.payoutId) {
      const sum = ledgerByPayout.get(t.payoutId) ?? { ledger: 0, fees: 0 };
      sum.ledger += isRefund ? -ledger.amountMinor : ledger.amountMinor;
      sum.fees += t.feeMinor;
      ledgerByPayout.set(t.payoutId, sum);
    }
  }
  const seenPayments = new Set(paymentIds);
  const seenRefunds = new Set(refundIds);
  for (const p of paidInPeriod) {
    if (p.providerPaymentId && !seenPayments.has(p.providerPaymentId)) result.missingAtProvider.push({ ...emptyProvider, kind: "payment", providerObjectId: p.providerPaymentId, ledgerId: p.id, ledgerAmountMinor: p.amountMinor, ledgerCurrency: p.currency });
  }
  for (const r of refundedInPeriod) {
    if (r.providerRefundId && !seenRefunds.has(r.providerRefundId)) result.missingAtProvider.push({ ...emptyProvider, kind: "refund", providerObjectId: r.providerRefundId, ledgerId: r.id, ledgerAmountMinor: r.amountMinor, ledgerCurrency: r.currency });
  }
  result.payouts = payouts.map((p) => ({
    id: p.id,
    status: p.status,
    amountMinor: p.amountMinor,
    currency: p.currency.toUpperCase(),
    arrivalDate: p.arrivalDate,
    ledgerMinor: ledgerByPayout.get(p.id)?.ledger ?? 0,
    feesMinor: ledgerByPayout.get(p.id)?.fees ?? 0,
  }));
  return result;
}

const emptyProvider = { providerTransactionId: null, providerAmountMinor: null, providerCurrency: null, payoutId: null } as const;

function lineOf(t: ProviderBalanceTransaction, kind: "payment" | "refund", ledger: { id: string; amountMinor: number; currency: string } | null): ReconciliationLine {
  return {
    providerTransactionId: t.id,
    providerObjectId: kind === "refund" ? t.refundId : t.paymentId,
    kind,
    providerAmountMinor: Math.abs(t.amountMinor),
    providerCurrency: t.currency.toUpperCase(),
    ledgerId: ledger?.id ?? null,
    ledgerAmountMinor: ledger?.amountMinor ?? null,
    ledgerCurrency: ledger?.currency ?? null,
    payoutId: t.payoutId,
  };
}
