import { and, asc, eq, sql, type SQL } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import { courses, enrollments, type Fee, feeInstalments, fees, invoices, sections } from "../db/schema/index.js";
import { recordEvents } from "../outbox/record-events.js";
import { lockCourse } from "../enrollment/course-lock.js";
import { courseRoleOf } from "../identity/caller.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { feeTermsBreach, type FeeTerms } from "./fee-rules.js";

export type FeeErrorCode = "COURSE_NOT_FOUND" | "SECTION_NOT_FOUND" | "FEE_INVALID" | "FEE_NOT_FOUND" | "FEE_INVOICED" | "FEE_RETIRED" | "PRECONDITION_FAILED";

export interface FeeView extends FeeTerms {
  id: string;
  courseId: string;
  instalments: { seq: number; amountMinor: number; dueAt: Date | null; dueAfterDays: number }[];
  retiredAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Who is looking: the bursar, admins and the course's staff see every fee; others the live fees of a published course. */
export interface FeeViewer {
  userId: string | null;
  isAdmin: boolean;
  isFinance: boolean;
}

/** How long a seat is held for payment when the context does not say (the PAYMENT_HOLD_HOURS setting's default). */
export const DEFAULT_PAYMENT_HOLD_HOURS = 48;

/**
 * SQL that is true when a course asks for payment before an enrollment becomes active: it has a live (not
 * retired) course-wide fee whose requirement is not `none`. Section fees are owed too, but only once the learner
 * is placed in the section, which happens after enrolling: they never hold the seat.
 */
export function paymentFirstSql(courseId: SQL | string): SQL {
  return sql`exists (select 1 from ${fees} f where f.course_id = ${courseId} and f.section_id is null and f.retired_at is null and f.requirement <> 'none')`;
}

export async function requiresPaymentFirst(ctx: DomainContext, courseId: string): Promise<boolean> {
  const rows = await ctx.db.execute<{ pay: boolean }>(sql`select ${paymentFirstSql(courseId)} as pay`);
  return rows[0]?.pay === true;
}

/** When a seat taken now is released if still unpaid. */
export function paymentDueAt(ctx: DomainContext, now: Date): Date {
  return new Date(now.getTime() + (ctx.paymentHoldHours ?? DEFAULT_PAYMENT_HOLD_HOURS) * 3_600_000);
}


function toView(fee: Fee, plan: (typeof feeInstalments.$inferSelect)[]): FeeView {
  return {
    id: fee.id,
    courseId: fee.courseId,
    sectionId: fee.sectionId,
    term: fee.term,
    name: fee.name,
    currency: fee.currency,
    amountMinor: fee.amountMinor,
    dueAt: fee.dueAt,
    dueAfterDays: fee.dueAfterDays,
    requirement: fee.requirement,
    instalments: plan
      .filter((p) => p.feeId === fee.id)
      .sort((a, b) => a.seq - b.seq)
      .map((p) => ({ seq: p.seq, amountMinor: p.amountMinor, dueAt: p.dueAt, dueAfterDays: p.dueAfterDays })),
    lateFee: { kind: fee.lateFeeKind, value: fee.lateFeeValue, graceDays: fee.lateFeeGraceDays },
    retiredAt: fee.retiredAt,
    version: fee.version,
    createdAt: fee.createdAt,
    updatedAt: fee.updatedAt,
  };
}

async function viewsOf(db: Executor, rows: Fee[]): Promise<FeeView[]> {
  if (rows.length === 0) return [];
  const plan = await db
    .select()
    .from(feeInstalments)
    .where(sql`${feeInstalments.feeId} = any(${sql.param(rows.map((r) => r.id))}::uuid[])`);
  return rows.map((r) => toView(r, plan));
}

function invalid(breach: { path: string; message: string }) {
  return fail("FEE_INVALID", `${breach.path}: ${breach.message}`, { errors: [{ path: `body.${breach.path}`, message: breach.message }] });
}

/** The section must be one of the course's. */
async function sectionOfCourse(db: Executor, courseId: string, sectionId: string | null): Promise<boolean> {
  if (sectionId === null) return true;
  const [row] = await db.select({ id: sections.id }).from(sections).where(and(eq(sections.id, sectionId), eq(sections.courseId, courseId)));
  return row !== undefined;
}

const columnsOf = (t: FeeTerms) => ({
  sectionId: t.sectionId,
  term: t.term,
  name: t.name,
  currency: t.currency,
  amountMinor: t.amountMinor,
  dueAt: t.dueAt,
  dueAfterDays: t.dueAfterDays,
  requirement: t.requirement,
  lateFeeKind: t.lateFee.kind,
  lateFeeValue: t.lateFee.value,
  lateFeeGraceDays: t.lateFee.graceDays,
});

async function insertPlan(db: Executor, feeId: string, t: FeeTerms): Promise<void> {
  if (t.instalments.length === 0) return;
  await db.insert(feeInstalments).values(t.instalments.map((p, i) => ({ feeId, seq: i + 1, amountMinor: p.amountMinor, dueAt: p.dueAt, dueAfterDays: p.dueAfterDays })));
}

/** The bursar sets a fee for a course (or one section or term of it). Audited. */
export async function createFee(ctx: DomainContext, courseId: string, terms: FeeTerms): Promise<Result<FeeView, FeeErrorCode>> {
  const [course] = await ctx.db.select({ id: courses.id }).from(courses).where(eq(courses.id, courseId));
  if (!course) return fail("COURSE_NOT_FOUND");
  const breach = feeTermsBreach(terms);
  if (breach) return invalid(breach);
  if (!(await sectionOfCourse(ctx.db, courseId, terms.sectionId))) return fail("SECTION_NOT_FOUND", "The course has no such section.");
  const now = ctx.now();
  const id = ctx.newId();
  const [row] = await ctx.db
    .insert(fees)
    .values({ id, courseId, ...columnsOf(terms), createdByUserId: ctx.actor.userId, createdAt: now, updatedAt: now })
    .returning();
  await insertPlan(ctx.db, id, terms);
  await recordAudit(ctx, { action: "fee.created", targetType: "fee", targetId: id, details: { courseId, currency: terms.currency, amountMinor: terms.amountMinor, requirement: terms.requirement } });
  return ok((await viewsOf(ctx.db, [row!]))[0]!);
}

/** A fee row locked for a change, with the refusals every change shares. */
async function lockedFee(ctx: DomainContext, courseId: string, feeId: string, expectedVersion: number | undefined): Promise<Result<Fee, FeeErrorCode>> {
  // FOR UPDATE conflicts with the key-share lock an invoice insert takes on its fee: a change waits for an
  // invoice being issued to commit and then sees it (FEE_INVOICED), or the issue waits for the change.
  const [fee] = await ctx.db.select().from(fees).where(and(eq(fees.id, feeId), eq(fees.courseId, courseId))).for("update");
  if (!fee) return fail("FEE_NOT_FOUND");
  if (expectedVersion !== undefined && fee.version !== expectedVersion) return fail("PRECONDITION_FAILED");
  return ok(fee);
}

/**
 * Changes a fee's terms while no invoice was issued for it. Once one was, what it asked is fixed (invoices are
 * never edited, and two learners of one fee must not owe different things): 409 `FEE_INVOICED`; retire it and
 * create another. Audited.
 */
export async function changeFee(
  ctx: DomainContext,
  courseId: string,
  feeId: string,
  patch: Partial<FeeTerms>,
  expectedVersion: number | undefined,
): Promise<Result<FeeView, FeeErrorCode>> {
  const locked = await lockedFee(ctx, courseId, feeId, expectedVersion);
  if (!locked.ok) return locked;
  const fee = locked.value;
  if (fee.retiredAt) return fail("FEE_RETIRED", "A retired fee is not changed: create a new one.");
  const [invoiced] = await ctx.db.select({ id: invoices.id }).from(invoices).where(eq(invoices.feeId, feeId)).limit(1);
  if (invoiced) return fail("FEE_INVOICED", "Invoices were issued for this fee: retire it and create a new one.");
  const current = (await viewsOf(ctx.db, [fee]))[0]!;
  const terms: FeeTerms = { ...current, ...patch, lateFee: patch.lateFee ?? current.lateFee, instalments: patch.instalments ?? current.instalments };
  const breach = feeTermsBreach(terms);
  if (breach) return invalid(breach);
  if (!(await sectionOfCourse(ctx.db, courseId, terms.sectionId))) return fail("SECTION_NOT_FOUND", "The course has no such section.");
  const [row] = await ctx.db
    .update(fees)
    .set({ ...columnsOf(terms), version: fee.version + 1, updatedAt: ctx.now() })
    .where(eq(fees.id, feeId))
    .returning();
  if (patch.instalments) {
    await ctx.db.delete(feeInstalments).where(eq(feeInstalments.feeId, feeId));
    await insertPlan(ctx.db, feeId, terms);
  }
  await recordAudit(ctx, { action: "fee.changed", targetType: "fee", targetId: feeId, details: { courseId, fields: Object.keys(patch).sort() } });
  if (patch.requirement !== undefined || patch.sectionId !== undefined) await activateHoldsWithoutPayFirstFee(ctx, courseId);
  return ok((await viewsOf(ctx.db, [row!]))[0]!);
}

/** Retires a fee: nobody new is invoiced for it (issued invoices stand). Retiring twice changes nothing. Audited once. */
export async function retireFee(ctx: DomainContext, courseId: string, feeId: string, expectedVersion: number | undefined): Promise<Result<FeeView, FeeErrorCode>> {
  const locked = await lockedFee(ctx, courseId, feeId, expectedVersion);
  if (!locked.ok) return locked;
  let fee = locked.value;
  if (!fee.retiredAt) {
    const now = ctx.now();
    const [retired] = await ctx.db.update(fees).set({ retiredAt: now, version: fee.version + 1, updatedAt: now }).where(eq(fees.id, feeId)).returning();
    fee = retired!;
    await recordAudit(ctx, { action: "fee.retired", targetType: "fee", targetId: feeId, details: { courseId } });
    await activateHoldsWithoutPayFirstFee(ctx, courseId);
  }
  return ok((await viewsOf(ctx.db, [fee!]))[0]!);
}

/** Whether `viewer` sees every fee of the course (retired ones too), only its live ones, or not the course at all. */
async function feeScope(db: Executor, courseId: string, viewer: FeeViewer): Promise<"all" | "live" | null> {
  const [course] = await db.select({ status: courses.status }).from(courses).where(eq(courses.id, courseId));
  if (!course) return null;
  if (viewer.isAdmin || viewer.isFinance) return "all";
  if (viewer.userId && (await courseRoleOf(db, viewer.userId, courseId))) return "all";
  // A learner must know the price before enrolling: the live fees of a published course are public.
  return course.status === "published" ? "live" : null;
}

const FEE_LIST_LIMIT = 200;

/** The course's fees, oldest first (a course has a handful; at most 200 are listed). */
export async function feesSeenBy(db: Executor, courseId: string, viewer: FeeViewer): Promise<Result<FeeView[], "COURSE_NOT_FOUND">> {
  const scope = await feeScope(db, courseId, viewer);
  if (!scope) return fail("COURSE_NOT_FOUND");
  const where: SQL | undefined = scope === "live" ? and(eq(fees.courseId, courseId), sql`${fees.retiredAt} is null`) : eq(fees.courseId, courseId);
  const rows = await db.select().from(fees).where(where).orderBy(asc(fees.createdAt), asc(fees.id)).limit(FEE_LIST_LIMIT);
  return ok(await viewsOf(db, rows));
}

export async function feeSeenBy(db: Executor, courseId: string, feeId: string, viewer: FeeViewer): Promise<Result<FeeView, "FEE_NOT_FOUND">> {
  const scope = await feeScope(db, courseId, viewer);
  if (!scope) return fail("FEE_NOT_FOUND");
  const [row] = await db.select().from(fees).where(and(eq(fees.id, feeId), eq(fees.courseId, courseId)));
  if (!row || (scope === "live" && row.retiredAt)) return fail("FEE_NOT_FOUND");
  return ok((await viewsOf(db, [row]))[0]!);
}

/**
 * Once no live course-wide fee asks for payment first (retired, or changed to ask nothing first), the seats held
 * for payment would only expire unpaid: they become active (`enrollment.promoted` from `pending-payment`). Under the
 * course lock every seat change takes, so an enrollment racing this either holds its seat first (and is activated
 * here) or sees the course no longer asks for payment first.
 */
async function activateHoldsWithoutPayFirstFee(ctx: DomainContext, courseId: string): Promise<void> {
  await lockCourse(ctx.db, courseId);
  if (await requiresPaymentFirst(ctx, courseId)) return;
  const now = ctx.now();
  const activated = await ctx.db
    .update(enrollments)
    .set({ status: "active", enrolledAt: now, paymentDueAt: null, updatedAt: now })
    .where(and(eq(enrollments.courseId, courseId), eq(enrollments.status, "pending-payment")))
    .returning({ id: enrollments.id, userId: enrollments.userId });
  await recordEvents(
    ctx,
    activated.map((e) => ({
      type: "enrollment.promoted" as const,
      aggregateType: "enrollment",
      aggregateId: e.id,
      courseId,
      data: { enrollmentId: e.id, courseId, userId: e.userId, from: "pending-payment" as const },
    })),
  );
}
