// What each part of an invoice still asks for, worked out from the plan as issued and the invoice's ledger
// totals. Pure: the same rules for the reminders timer, the seat hold, the views and the property test.

export interface PlannedInstalment {
  seq: number;
  amountMinor: number;
  dueAt: Date;
}

export interface InstalmentState extends PlannedInstalment {
  /** Late fees charged on this instalment. */
  lateFeeMinor: number;
  /** What this instalment asks for now: its amount plus its late fees, less what credit notes took back from it. */
  dueMinor: number;
  paidMinor: number;
  outstandingMinor: number;
}

export interface InvoiceAmounts {
  /** Late fees by instalment seq. */
  lateFees: ReadonlyMap<number, number>;
  /** What credit notes took back (a positive number); discounts are in the plan as issued. */
  reducedMinor: number;
  /** What was paid net of refunds, with credit moved in or out (may exceed what is asked: an overpayment). */
  settledMinor: number;
}

/**
 * The state of each instalment. Reductions (credit notes) come off the last instalments first, each with its late
 * fees, so what falls due soonest stays as planned; payments go to the instalments in order (each with its late fees), so the oldest
 * debt is settled first. An overpayment leaves every instalment at zero (the excess is credit on the invoice).
 */
export function instalmentStates(plan: readonly PlannedInstalment[], amounts: InvoiceAmounts): InstalmentState[] {
  const ordered = [...plan].sort((a, b) => a.seq - b.seq);
  let reduce = Math.max(0, amounts.reducedMinor);
  const reduced = new Map<number, number>();
  for (let i = ordered.length - 1; i >= 0 && reduce > 0; i--) {
    const part = ordered[i]!;
    // A part's late fees are asked with it: a credit note for everything asked takes them too.
    const take = Math.min(part.amountMinor + (amounts.lateFees.get(part.seq) ?? 0), reduce);
    reduced.set(part.seq, take);
    reduce -= take;
  }
  let pay = Math.max(0, amounts.settledMinor);
  return ordered.map((part) => {
    const lateFeeMinor = amounts.lateFees.get(part.seq) ?? 0;
    const dueMinor = part.amountMinor - (reduced.get(part.seq) ?? 0) + lateFeeMinor;
    const paidMinor = Math.min(dueMinor, pay);
    pay -= paidMinor;
    return { ...part, lateFeeMinor, dueMinor, paidMinor, outstandingMinor: dueMinor - paidMinor };
  });
}

/** The instalments past their due date with something still to pay. */
export const overdueInstalments = (states: readonly InstalmentState[], now: Date): InstalmentState[] =>
  states.filter((s) => s.outstandingMinor > 0 && s.dueAt.getTime() <= now.getTime());
