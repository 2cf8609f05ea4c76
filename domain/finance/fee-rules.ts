import type { DiscountKind, FeeRequirement, LateFeeKind } from "../db/schema/index.js";
import { isCurrency } from "./money.js";

/** A fee's terms as the bursar sets them (the schedule an invoice is drawn from). */
export interface FeeTerms {
  name: string;
  currency: string;
  amountMinor: number;
  sectionId: string | null;
  term: string | null;
  /** A fixed due date; null: `dueAfterDays` after the invoice is issued. */
  dueAt: Date | null;
  dueAfterDays: number;
  requirement: FeeRequirement;
  /** The plan: empty for one payment of the whole amount. */
  instalments: { amountMinor: number; dueAt: Date | null; dueAfterDays: number }[];
  lateFee: { kind: LateFeeKind; value: number; graceDays: number };
}

export const MAX_INSTALMENTS = 24;
/** Basis points: 10000 = 100%. */
export const MAX_BASIS_POINTS = 10_000;

/** Why terms are refused: what and where (the field a client shows the message on). */
export interface RuleBreach {
  path: string;
  message: string;
}

const wholePositive = (n: number) => Number.isSafeInteger(n) && n > 0;

/**
 * Checks a fee's terms beyond their shapes: the plan adds up to the fee, its dates run in order, a late fee is a
 * sensible size, a `first-instalment` requirement has a first instalment. Pure; the first breach found, or null.
 */
export function feeTermsBreach(t: FeeTerms): RuleBreach | null {
  if (!isCurrency(t.currency)) return { path: "currency", message: "not an ISO 4217 currency" };
  if (!wholePositive(t.amountMinor)) return { path: "amountMinor", message: "a positive whole number of minor units" };
  if (!Number.isInteger(t.dueAfterDays) || t.dueAfterDays < 0) return { path: "dueAfterDays", message: "zero or more whole days" };
  const plan = t.instalments;
  if (plan.length === 1) return { path: "instalments", message: "a plan has at least two instalments (leave it out for one payment)" };
  if (plan.length > MAX_INSTALMENTS) return { path: "instalments", message: `at most ${MAX_INSTALMENTS} instalments` };
  for (const [i, part] of plan.entries()) {
    if (!wholePositive(part.amountMinor)) return { path: `instalments.${i}.amountMinor`, message: "a positive whole number of minor units" };
    if (!Number.isInteger(part.dueAfterDays) || part.dueAfterDays < 0) return { path: `instalments.${i}.dueAfterDays`, message: "zero or more whole days" };
  }
  if (plan.length) {
    const sum = plan.reduce((s, p) => s + p.amountMinor, 0);
    if (sum !== t.amountMinor) return { path: "instalments", message: `the instalments add up to ${sum}, the fee is ${t.amountMinor}` };
    // Fixed dates and days-after-issue cannot be ordered against each other: one kind per plan.
    const fixed = plan.filter((p) => p.dueAt !== null).length;
    if (fixed !== 0 && fixed !== plan.length) return { path: "instalments", message: "give every instalment a dueAt, or none (days after the invoice)" };
    for (let i = 1; i < plan.length; i++) {
      const [before, after] = [plan[i - 1]!, plan[i]!];
      const inOrder = fixed ? before.dueAt!.getTime() < after.dueAt!.getTime() : before.dueAfterDays < after.dueAfterDays;
      if (!inOrder) return { path: `instalments.${i}`, message: "each instalment falls due after the one before it" };
    }
  }
  if (t.requirement === "first-instalment" && plan.length === 0) return { path: "requirement", message: "first-instalment needs an instalment plan (or use full)" };
  const late = t.lateFee;
  if (!Number.isInteger(late.graceDays) || late.graceDays < 0) return { path: "lateFee.graceDays", message: "zero or more whole days" };
  if (late.kind === "none" && late.value !== 0) return { path: "lateFee.value", message: "no late fee: value 0" };
  if (late.kind === "fixed" && !(wholePositive(late.value) && late.value <= t.amountMinor)) {
    return { path: "lateFee.value", message: "a fixed late fee is a positive whole amount, at most the fee" };
  }
  if (late.kind === "percent" && !(wholePositive(late.value) && late.value <= MAX_BASIS_POINTS)) {
    return { path: "lateFee.value", message: `basis points from 1 to ${MAX_BASIS_POINTS} (500 = 5%)` };
  }
  return null;
}

/** A discount's terms against its fee: a percent is 1..10000 bp, a fixed amount at most the fee, a waiver has no value. */
export function discountBreach(kind: DiscountKind, value: number, feeAmountMinor: number): RuleBreach | null {
  if (kind === "waiver") return value === 0 ? null : { path: "value", message: "a waiver takes the whole fee: value 0 or left out" };
  if (!wholePositive(value)) return { path: "value", message: "a positive whole number" };
  if (kind === "percent" && value > MAX_BASIS_POINTS) return { path: "value", message: `basis points from 1 to ${MAX_BASIS_POINTS}` };
  if (kind === "fixed" && value > feeAmountMinor) return { path: "value", message: `at most the fee's amount (${feeAmountMinor})` };
  return null;
}
