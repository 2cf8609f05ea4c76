import { sql } from "drizzle-orm";
import { type AnyPgColumn, bigserial, index, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { courses } from "./courses.js";
import { belongsTo, timestamps, tstz } from "./columns.js";
import { sections } from "./sections.js";
import { users } from "./users.js";

export const enrollmentStatuses = [
  "active",
  "waitlisted",
  "offered",
  // the seat is held until the course's fee (or its first instalment) is paid, or `payment_due_at` passes
  "pending-payment",
  // an overdue fee took the learner's access away (the seat stays theirs); paying gives it back
  "suspended",
  "dropped",
  "removed",
  "offer-expired",
  "offer-declined",
  // the held seat was released unpaid
  "payment-expired",
] as const;
export type EnrollmentStatus = (typeof enrollmentStatuses)[number];
/**
 * The statuses in which a learner holds a place (or a place in line); at most one such row per learner and course.
 * Every one but `waitlisted` holds a seat (counted in `courses.seats_taken`).
 */
export const liveStatuses = ["active", "waitlisted", "offered", "pending-payment", "suspended"] as const satisfies readonly EnrollmentStatus[];
export type LiveStatus = (typeof liveStatuses)[number];
/** The `liveStatuses` as the SQL list the partial unique index and every `on conflict` naming it spell. */
export const LIVE_STATUSES_SQL = `(${liveStatuses.map((s) => `'${s}'`).join(", ")})`;
/** The same list as a SQL chunk, for queries: `status in ${LIVE_STATUSES}`. */
export const LIVE_STATUSES = sql.raw(LIVE_STATUSES_SQL);

export const enrollmentSources = ["self", "staff", "invitation", "import"] as const;
export type EnrollmentSource = (typeof enrollmentSources)[number];

export const enrollments = pgTable(
  "enrollments",
  {
    id: uuid("id").primaryKey(),
    courseId: belongsTo("course_id", () => courses.id),
    userId: belongsTo("user_id", () => users.id),
    status: text("status").$type<EnrollmentStatus>().notNull(),
    source: text("source").$type<EnrollmentSource>().notNull(),
    // FIFO order of the waitlist: assigned once, when the learner joins the line
    waitlistSeq: bigserial("waitlist_seq", { mode: "number" }).notNull(),
    enrolledAt: tstz("enrolled_at"),
    waitlistedAt: tstz("waitlisted_at"),
    offeredAt: tstz("offered_at"),
    offerExpiresAt: tstz("offer_expires_at"),
    // pending-payment: when the held seat is released if the fee is still unpaid
    paymentDueAt: tstz("payment_due_at"),
    endedAt: tstz("ended_at"),
    // set by the progress work when the learner completes the course (prerequisites read it)
    completedAt: tstz("completed_at"),
    // the course section the learner is in; cleared when the section is deleted
    sectionId: uuid("section_id").references((): AnyPgColumn => sections.id, { onDelete: "set null" }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("enrollments_course_id_user_id_live_idx")
      .on(t.courseId, t.userId)
      .where(sql.raw(`status in ${LIVE_STATUSES_SQL}`)),
    index("enrollments_course_id_status_waitlist_seq_idx").on(t.courseId, t.status, t.waitlistSeq),
    index("enrollments_user_id_idx").on(t.userId),
    index("enrollments_section_id_idx").on(t.sectionId),
    index("enrollments_offer_expires_at_idx").on(t.offerExpiresAt).where(sql`${t.status} = 'offered'`),
    index("enrollments_payment_due_at_idx").on(t.paymentDueAt).where(sql`${t.status} = 'pending-payment'`),
  ],
);

export const invitations = pgTable(
  "invitations",
  {
    id: uuid("id").primaryKey(),
    courseId: belongsTo("course_id", () => courses.id),
    email: text("email").notNull(),
    // only the hash: the token itself travels in the invitation email
    tokenHash: text("token_hash").notNull(),
    invitedByUserId: uuid("invited_by_user_id").references(() => users.id, { onDelete: "set null" }),
    expiresAt: tstz("expires_at").notNull(),
    acceptedAt: tstz("accepted_at"),
    acceptedByUserId: uuid("accepted_by_user_id").references(() => users.id, { onDelete: "set null" }),
    ...timestamps,
  },
  (t) => [uniqueIndex("invitations_token_hash_idx").on(t.tokenHash), index("invitations_course_id_idx").on(t.courseId)],
);
