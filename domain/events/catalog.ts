import { z } from "zod";
import { closedLeaveStatuses, leaveApplicantKinds } from "../db/schema/leave.js";

const id = z.uuid();
const at = z.iso.datetime();

const enrollmentRef = { enrollmentId: id, courseId: id, userId: id };

/**
 * Every event type with the schema of its `data`. Types are dotted, lower case, past tense; a change of
 * meaning is a new type, never an edit of an old one. Producers and consumers validate against these.
 */
export const eventCatalog = {
  "user.registered": z.object({ userId: id, email: z.string(), displayName: z.string() }),
  // An admin switched the account off (sessions ended, sign-in refused, records kept) or back on.
  "user.deactivated": z.object({ userId: id, deactivatedAt: at }),
  "user.reactivated": z.object({ userId: id, reactivatedAt: at }),
  // Their personal data was erased: every subscription forgets what it holds about them (no email or name here).
  "user.erased": z.object({ userId: id, pseudonym: z.string() }),

  "course.created": z.object({ courseId: id, title: z.string(), createdByUserId: id }),
  "course.updated": z.object({ courseId: id, version: z.number().int(), fields: z.array(z.string()) }),
  "course.published": z.object({ courseId: id, title: z.string(), publishedAt: at }),
  "course.archived": z.object({ courseId: id, archivedAt: at }),
  "course.staff-added": z.object({ courseId: id, userId: id, role: z.enum(["instructor", "grader"]) }),
  "course.staff-removed": z.object({ courseId: id, userId: id }),
  "lesson.completed": z.object({ lessonId: id, courseId: id, userId: id, completedAt: at }),

  "enrollment.created": z.object({ ...enrollmentRef, source: z.enum(["self", "staff", "invitation", "import"]) }),
  "enrollment.waitlisted": z.object({ ...enrollmentRef, position: z.number().int().positive() }),
  "enrollment.offered": z.object({ ...enrollmentRef, offerExpiresAt: at }),
  // The learner became active: moved up from the waitlist, took an offered seat, paid for a held seat
  // (pending-payment), or paid what was overdue after a suspension.
  "enrollment.promoted": z.object({ ...enrollmentRef, from: z.enum(["waitlisted", "offered", "pending-payment", "suspended"]) }),
  // The course asks for payment first: the seat is held until `paymentDueAt` (the invoice is issued from this event).
  "enrollment.pending-payment": z.object({ ...enrollmentRef, source: z.enum(["self", "staff", "invitation", "import", "waitlist"]), paymentDueAt: at }),
  // The held seat was released unpaid (by the seat-holds timer); the next in line is offered it.
  "enrollment.payment-expired": z.object(enrollmentRef),
  // The learner was placed in a section, moved to another, or taken out of one (null): section fees are invoiced from it.
  "enrollment.section-changed": z.object({ ...enrollmentRef, sectionId: id.nullable(), previousSectionId: id.nullable() }),
  // An invoice went unpaid for ENROLLMENT_SUSPEND_AFTER_DAYS past due: the learner's access is suspended until it is paid.
  "enrollment.suspended": z.object({ ...enrollmentRef, invoiceId: id }),
  "enrollment.offer-expired": z.object(enrollmentRef),
  "enrollment.offer-declined": z.object(enrollmentRef),
  "enrollment.dropped": z.object({ ...enrollmentRef, by: z.enum(["learner", "staff"]), previousStatus: z.enum(["active", "waitlisted", "offered", "pending-payment", "suspended"]) }),
  "submission.submitted": z.object({ submissionId: id, assessmentId: id, courseId: id, userId: id, submittedAt: at, by: z.enum(["learner", "deadline"]) }),
  "grade.published": z.object({ gradeId: id, submissionId: id, assessmentId: id, courseId: id, userId: id, version: z.number().int(), percent: z.number() }),
  // Each change of a learner's stored progress; `revision` orders them (read models keep the highest).
  "progress.updated": z.object({ courseId: id, userId: id, percent: z.number().min(0).max(100), revision: z.number().int().positive(), complete: z.boolean() }),
  "course.completed": z.object({ courseId: id, userId: id, completedAt: at }),
  // Staff took or changed attendance at a session, or learners checked in: the learners whose marks changed (their
  // attendance rate, and so their progress when the course needs a minimum rate, may have moved).
  "attendance.recorded": z.object({ sessionId: id, courseId: id, userIds: z.array(id).min(1) }),
  // The course's attendance policy changed what counts (gradeCategory, minRateForCompletion): its active learners, in batches, for the progress recompute.
  "attendance.policy-changed": z.object({ courseId: id, userIds: z.array(id).min(1).max(1000) }),
  "certificate.issued": z.object({ certificateId: id, courseId: id, userId: id, code: z.string(), issuedAt: at }),
  "reminder.due": z.object({ assessmentId: id, courseId: id, userId: id, dueAt: at }),
  // A course evaluation opened or closed (ids and times only: who answered, or did not, is never in an event; the
  // evaluations timer records the learners' notifications itself).
  "evaluation.opened": z.object({ evaluationId: id, courseId: id, openedAt: at, closesAt: at }),
  "evaluation.closed": z.object({ evaluationId: id, courseId: id, closedAt: at }),
  // A learner's attendance rate fell below the course's threshold: sent once per (course, learner, ISO week "2026-W49").
  "attendance.low": z.object({ courseId: id, userId: id, ratePercent: z.number().min(0).max(100), thresholdPercent: z.number(), period: z.string().regex(/^\d{4}-W\d{2}$/) }),
  "grading.requested": z.object({ submissionId: id, courseId: id, assessmentId: id, items: z.array(z.string()) }),
  "grading.overdue": z.object({ submissionId: id, courseId: id, assessmentId: id, items: z.array(z.string()) }),
  "assessment.key-changed": z.object({ assessmentId: id, courseId: id, keyVersion: z.number().int() }),
  // Staff released the held results of a manual-release assessment: learners with a grade are told.
  "assessment.results-released": z.object({ assessmentId: id, courseId: id, releasedAt: at }),
  // Staff cancelled class sessions (one, or an occurrence and the rest of its series): learners expected there are emailed once.
  // No reason: it is free text and events reach webhooks; the email reads it from the sessions.
  "class-session.cancelled": z.object({ courseId: id, sessionIds: z.array(id).min(1).max(5000), cancelledAt: at }),
  // An announcement was published (now, or by the announcements timer): its audience is notified. Ids only: its
  // title and body are free text, and events reach webhooks.
  "announcement.published": z.object({ announcementId: id, courseId: id, sectionId: id.nullable(), publishedAt: at }),
  // A topic was opened or a reply posted: followers and the mentioned are notified. Ids only (posts are free text).
  "discussion.post-created": z.object({ postId: id, topicId: id, courseId: id }),
  "enrollment.invited": z.object({ invitationId: id, courseId: id, email: z.string(), token: z.string(), expiresAt: at }),
  // An endpoint switched off after failing for long enough; its owner (the admin who registered it) is told.
  "webhook.disabled": z.object({
    webhookId: id,
    ownerUserId: id.nullable(),
    reason: z.enum(["failures"]),
    consecutiveFailures: z.number().int().positive(),
    failingSince: at,
    disabledAt: at,
  }),
  // A bulk import ended: ran to its end (`completed`) or stopped between batches on request (`cancelled`); the
  // importer is emailed the summary. Counts only: rows and their people stay in the import's report.
  "import.completed": z.object({
    importId: id,
    importerUserId: id,
    courseId: id.nullable(),
    kind: z.string(),
    dryRun: z.boolean(),
    status: z.enum(["completed", "cancelled"]),
    rowsRead: z.number().int(),
    rowsApplied: z.number().int(),
    rowsFailed: z.number().int(),
    rowsSkipped: z.number().int(),
    counts: z.record(z.string(), z.object({ created: z.number().int(), updated: z.number().int(), unchanged: z.number().int(), failed: z.number().int(), skipped: z.number().int() })),
    finishedAt: at,
  }),
  // A bulk import failed: its file was refused (nothing applied), or a step failed every retry (the report says
  // which rows were applied).
  "import.failed": z.object({
    importId: id,
    importerUserId: id,
    courseId: id.nullable(),
    kind: z.string(),
    dryRun: z.boolean(),
    reason: z.string(),
    rowsRead: z.number().int(),
    rowsApplied: z.number().int(),
    finishedAt: at,
  }),
  // Leave applications (domain/leave). No reason or comment: events reach webhooks, and a reason may be private.
  "leave.requested": z.object({ applicationId: id, userId: id, kind: z.enum(leaveApplicantKinds), startsAt: at, endsAt: at, courseIds: z.array(id) }),
  // Its outcome, recorded once: by an approver, by the applicant withdrawing, or by the final deadline.
  "leave.decided": z.object({
    applicationId: id,
    userId: id,
    outcome: z.enum(closedLeaveStatuses),
    decidedAt: at,
    decidedByUserId: id.nullable(),
    courseIds: z.array(id),
  }),
  // Finance (domain/finance). Ids, numbers and amounts in minor units only: no names, emails or free-text reasons.
  "invoice.issued": z.object({ invoiceId: id, number: z.string(), userId: id, courseId: id, enrollmentId: id, currency: z.string().length(3), totalMinor: z.number().int(), dueAt: at }),
  "invoice.paid": z.object({ invoiceId: id, userId: id, courseId: id, paidAt: at }),
  // An instalment (seq; 1 without a plan) passed its due date unpaid: sent once per (invoice, instalment).
  "invoice.overdue": z.object({ invoiceId: id, userId: id, courseId: id, seq: z.number().int().positive(), dueAt: at, amountDueMinor: z.number().int(), currency: z.string().length(3) }),
  "invoice.voided": z.object({ invoiceId: id, userId: id, courseId: id, creditNoteId: id }),
  "credit-note.issued": z.object({ creditNoteId: id, number: z.string(), invoiceId: id, userId: id, currency: z.string().length(3), amountMinor: z.number().int().positive() }),
  "payment.received": z.object({ paymentId: id, invoiceId: id, userId: id, method: z.enum(["stripe", "bank-transfer", "cash"]), currency: z.string().length(3), amountMinor: z.number().int().positive(), receivedAt: at }),
  "payment.refunded": z.object({ refundId: id, paymentId: id, invoiceId: id, userId: id, currency: z.string().length(3), amountMinor: z.number().int().positive() }),
} as const;

export type EventType = keyof typeof eventCatalog;
export type EventData<T extends EventType> = z.infer<(typeof eventCatalog)[T]>;

/** The envelope published to Service Bus. */
export const eventEnvelopeSchema = z.object({
  id: z.uuid(),
  type: z.string(),
  occurredAt: at,
  actor: z.object({ userId: z.uuid().nullable(), requestId: z.string().optional() }).nullable(),
  data: z.unknown(),
  traceparent: z.string().nullable(),
});
export type EventEnvelope = z.infer<typeof eventEnvelopeSchema>;

/**
 * An envelope whose type is in the catalog and whose data passed that type's schema: a union over the catalog,
 * so narrowing on `type` gives `data` its type. `CatalogEvent<"a" | "b">` is the union over those types only.
 */
export type CatalogEvent<T extends EventType = EventType> = {
  [K in T]: Omit<EventEnvelope, "type" | "data"> & { type: K; data: EventData<K> };
}[T];
