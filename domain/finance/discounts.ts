import { and, asc, desc, eq, gt, isNull, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import { type DiscountKind, enrollments, feeDiscounts, fees, invoices, LIVE_STATUSES, users } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { issueCreditNote } from "./credit-notes.js";
import { discountBreach } from "./fee-rules.js";
import { discountAmount } from "./invoices.js";
import { invoiceStandings } from "./ledger.js";

export type DiscountErrorCode = "FEE_NOT_FOUND" | "USER_NOT_FOUND" | "FEE_DISCOUNT_INVALID" | "FEE_DISCOUNT_EXISTS" | "FEE_DISCOUNT_NOT_FOUND" | "FEE_DISCOUNT_APPLIED" | "FEE_DISCOUNT_NOTHING_TO_CREDIT";

export interface DiscountView {
  id: string;
  feeId: string;
  userId: string;
  kind: DiscountKind;
  value: number;
  reason: string;
  grantedByUserId: string | null;
  revokedAt: Date | null;
  createdAt: Date;
  /** Granted after the learner's invoice was issued: the credit note that applied it (null: on the invoice itself, or none yet). */
  creditNote: { id: string; number: string; amountMinor: number } | null;
}

type DiscountRow = typeof feeDiscounts.$inferSelect;

const toView = (d: DiscountRow, creditNote: DiscountView["creditNote"] = null): DiscountView => ({
  id: d.id,
  feeId: d.feeId,
  userId: d.userId,
  kind: d.kind,
  value: d.value,
  reason: d.reason,
  grantedByUserId: d.grantedByUserId,
  revokedAt: d.revokedAt,
  createdAt: d.createdAt,
  creditNote,
});

async function feeOfCourse(db: Executor, courseId: string, feeId: string) {
  const [fee] = await db.select().from(fees).where(and(eq(fees.id, feeId), eq(fees.courseId, courseId)));
  return fee ?? null;
}

/**
 * The learner's enrollments in the fee's course, locked. Issuing invoices locks the enrollment first too
 * (`issueInvoicesForEnrollment`), so a grant and an issue for the same learner run one after the other: either
 * the invoice is drawn with the discount, or the grant sees the invoice and credits it. Never both, never neither.
 */
async function lockLearnerEnrollments(db: Executor, courseId: string, userId: string): Promise<void> {
  await db.select({ id: enrollments.id }).from(enrollments).where(and(eq(enrollments.courseId, courseId), eq(enrollments.userId, userId))).for("update");
}

/**
 * Grants a discount or waiver of a fee to one learner, with a reason (audited). Invoices drawn later carry it.
 * A learner whose invoice for the fee was issued already gets it as a credit note ("Discount: <reason>") for the
 * discount's amount of the invoice, never more than the invoice still asks for (issued invoices are never
 * edited). One live discount per (fee, learner).
 */
export async function grantDiscount(
  ctx: DomainContext,
  input: { courseId: string; feeId: string; userId: string; kind: DiscountKind; value: number; reason: string },
): Promise<Result<DiscountView, DiscountErrorCode>> {
  const fee = await feeOfCourse(ctx.db, input.courseId, input.feeId);
  if (!fee) return fail("FEE_NOT_FOUND");
  const [user] = await ctx.db.select({ id: users.id }).from(users).where(eq(users.id, input.userId));
  if (!user) return fail("USER_NOT_FOUND");
  const breach = discountBreach(input.kind, input.value, fee.amountMinor);
  if (breach) return fail("FEE_DISCOUNT_INVALID", `${breach.path}: ${breach.message}`, { errors: [{ path: `body.${breach.path}`, message: breach.message }] });
  await lockLearnerEnrollments(ctx.db, fee.courseId, input.userId);
  // The invoice to credit is the live enrollment's (a learner who left and came back has an older one, of an
  // ended enrollment, that this discount must not go to), and never a void one.
  const [invoice] = await ctx.db
    .select({ id: invoices.id, status: invoices.status, subtotalMinor: invoices.subtotalMinor })
    .from(invoices)
    .innerJoin(enrollments, eq(enrollments.id, invoices.enrollmentId))
    .where(and(eq(invoices.feeId, fee.id), eq(invoices.userId, input.userId), sql`${enrollments.status} in ${LIVE_STATUSES}`))
    .orderBy(sql`${invoices.status} = 'void'`, desc(invoices.issuedAt))
    .limit(1);
  let creditAmount = 0;
  if (invoice) {
    const standing = invoice.status === "void" ? undefined : (await invoiceStandings(ctx.db, [invoice.id])).get(invoice.id);
    creditAmount = Math.min(discountAmount(invoice.subtotalMinor, { kind: input.kind, value: input.value, reason: input.reason }), Math.max(0, standing?.chargedMinor ?? 0));
    // Granting a discount that reaches no money would tell the bursar it was applied when it was not.
    if (creditAmount <= 0) return fail("FEE_DISCOUNT_NOTHING_TO_CREDIT", "The learner's invoice for this fee asks for nothing the discount could take off.");
  }
  const now = ctx.now();
  const id = ctx.newId();
  // The partial unique index decides between two racing grants: the loser inserts nothing.
  const [row] = await ctx.db
    .insert(feeDiscounts)
    .values({ id, feeId: fee.id, userId: input.userId, kind: input.kind, value: input.value, reason: input.reason, grantedByUserId: ctx.actor.userId, createdAt: now, updatedAt: now })
    .onConflictDoNothing()
    .returning();
  if (!row) return fail("FEE_DISCOUNT_EXISTS", "The learner has a live discount on this fee: revoke it first.");
  let creditNote: DiscountView["creditNote"] = null;
  if (invoice && creditAmount > 0) {
    const issued = await issueCreditNote(ctx, { invoiceId: invoice.id, amountMinor: creditAmount, reason: `Discount: ${input.reason}`, issuedByUserId: ctx.actor.userId });
    // The amount is capped at what the invoice asks; the enrollment lock keeps other grants out meanwhile.
    if (!issued.ok) throw new Error(`credit note for discount ${id} refused: ${issued.error.code}`);
    creditNote = { id: issued.value.creditNoteId, number: issued.value.number, amountMinor: creditAmount };
  }
  await recordAudit(ctx, {
    action: "fee.discount-granted",
    targetType: "fee-discount",
    targetId: id,
    details: { feeId: fee.id, userId: input.userId, kind: input.kind, value: input.value, reason: input.reason, ...(creditNote ? { creditNoteId: creditNote.id } : {}) },
  });
  return ok(toView(row, creditNote));
}

/**
 * Revokes a discount before any invoice of the learner for the fee was issued. After that it is refused
 * (`FEE_DISCOUNT_APPLIED`): the discount is part of an issued invoice or of a credit note, neither of which is
 * ever edited, and a charge once taken back is not raised again behind the learner's back; a correction is a new
 * charge the bursar decides on. Audited.
 */
export async function revokeDiscount(ctx: DomainContext, input: { courseId: string; feeId: string; discountId: string }): Promise<Result<DiscountView, DiscountErrorCode>> {
  const fee = await feeOfCourse(ctx.db, input.courseId, input.feeId);
  if (!fee) return fail("FEE_NOT_FOUND");
  const [discount] = await ctx.db
    .select()
    .from(feeDiscounts)
    .where(and(eq(feeDiscounts.id, input.discountId), eq(feeDiscounts.feeId, fee.id), isNull(feeDiscounts.revokedAt)));
  if (!discount) return fail("FEE_DISCOUNT_NOT_FOUND");
  await lockLearnerEnrollments(ctx.db, fee.courseId, discount.userId);
  const [invoiced] = await ctx.db
    .select({ id: invoices.id })
    .from(invoices)
    .where(and(eq(invoices.feeId, fee.id), eq(invoices.userId, discount.userId)))
    .limit(1);
  if (invoiced) return fail("FEE_DISCOUNT_APPLIED", "The learner's invoice for this fee was issued with or after the discount; invoices are never edited.");
  const now = ctx.now();
  const [revoked] = await ctx.db
    .update(feeDiscounts)
    .set({ revokedAt: now, updatedAt: now })
    .where(and(eq(feeDiscounts.id, discount.id), isNull(feeDiscounts.revokedAt)))
    .returning();
  if (!revoked) return fail("FEE_DISCOUNT_NOT_FOUND");
  await recordAudit(ctx, { action: "fee.discount-revoked", targetType: "fee-discount", targetId: discount.id, details: { feeId: fee.id, userId: discount.userId } });
  return ok(toView(revoked));
}

/** The fee's discounts (revoked ones too), a page at a time in id order. */
export async function listDiscounts(
  db: Executor,
  input: { courseId: string; feeId: string; limit: number; after?: string | undefined },
): Promise<Result<DiscountView[], "FEE_NOT_FOUND">> {
  const fee = await feeOfCourse(db, input.courseId, input.feeId);
  if (!fee) return fail("FEE_NOT_FOUND");
  const rows = await db
    .select()
    .from(feeDiscounts)
    .where(and(eq(feeDiscounts.feeId, fee.id), input.after ? gt(feeDiscounts.id, input.after) : undefined))
    .orderBy(asc(feeDiscounts.id))
    .limit(input.limit + 1);
  return ok(rows.map((r) => toView(r)));
}
