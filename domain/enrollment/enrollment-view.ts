import { and, count, eq, lte } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type EnrollmentSource, type EnrollmentStatus, enrollments } from "../db/schema/index.js";

export interface EnrollmentView {
  id: string;
  courseId: string;
  userId: string;
  status: EnrollmentStatus;
  source: EnrollmentSource;
  /** Place in the waitlist, 1 = next; only while waitlisted. */
  position: number | null;
  /** The course section the learner is in, if any. */
  sectionId: string | null;
  enrolledAt: Date | null;
  waitlistedAt: Date | null;
  offerExpiresAt: Date | null;
  /** While pending-payment: when the held seat is released if the fee is still unpaid. */
  paymentDueAt: Date | null;
  endedAt: Date | null;
  completedAt: Date | null;
  createdAt: Date;
}

export type EnrollmentRow = typeof enrollments.$inferSelect;

export function toEnrollmentView(row: EnrollmentRow, position: number | null): EnrollmentView {
  return {
    id: row.id,
    courseId: row.courseId,
    userId: row.userId,
    status: row.status,
    source: row.source,
    position: row.status === "waitlisted" ? position : null,
    sectionId: row.sectionId,
    enrolledAt: row.enrolledAt,
    waitlistedAt: row.waitlistedAt,
    offerExpiresAt: row.status === "offered" ? row.offerExpiresAt : null,
    paymentDueAt: row.status === "pending-payment" ? row.paymentDueAt : null,
    endedAt: row.endedAt,
    completedAt: row.completedAt,
    createdAt: row.createdAt,
  };
}

/** 1 for the first in line: how many waitlisted learners of the course joined no later than this one. */
export async function waitlistPosition(db: Executor, row: EnrollmentRow): Promise<number | null> {
  if (row.status !== "waitlisted") return null;
  const [r] = await db
    .select({ n: count() })
    .from(enrollments)
    .where(and(eq(enrollments.courseId, row.courseId), eq(enrollments.status, "waitlisted"), lte(enrollments.waitlistSeq, row.waitlistSeq)));
  return r?.n ?? null;
}

export async function enrollmentView(db: Executor, row: EnrollmentRow): Promise<EnrollmentView> {
  return toEnrollmentView(row, await waitlistPosition(db, row));
}
