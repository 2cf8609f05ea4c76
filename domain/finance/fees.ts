import { sql, type SQL } from "drizzle-orm";
import { fees } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";

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

