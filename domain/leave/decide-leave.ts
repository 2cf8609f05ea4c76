import { and, eq, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type ClosedLeaveStatus, isOpenLeave, leaveApplications, type LeaveStatus, openLeaveStatuses } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { recordDirectEmails } from "../notifications/direct-emails.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { LeaveRow } from "./apply-leave.js";
import { applyApprovedLeave } from "./approved-leave.js";
import {
  administrators,
  approversOf,
  decidedEmail,
  escalatedEmails,
  expiredEmail,
  recipients,
  requestedEmails,
  stepEmailId,
  withdrawnEmails,
} from "./leave-emails.js";
import type { LeaveErrorCode } from "./leave.errors.js";
import { isCurrentApprover } from "./leave-approvers.js";
import { courseIdsOf } from "./leave-view.js";
import { leaveDeadlineOffsetsMs, mayDecide } from "./leave-rules.js";

export type LeaveOutcome = ClosedLeaveStatus;

async function lockApplication(db: Executor, applicationId: string): Promise<LeaveRow | undefined> {
  const [row] = await db.select().from(leaveApplications).where(eq(leaveApplications.id, applicationId)).for("update");
  return row;
}

/**
 * The one way an open application gets its outcome: a conditional update from pending or escalated. Whoever comes
 * first (a decision, a withdrawal, the expiry) wins; everyone after finds it closed.
 */
async function closeApplication(ctx: DomainContext, applicationId: string, outcome: LeaveOutcome, by: string | null, comment: string | null): Promise<LeaveRow | null> {
  const now = ctx.now();
  const [row] = await ctx.db
    .update(leaveApplications)
    .set({ status: outcome, decidedAt: now, decidedByUserId: by, decisionComment: comment, version: sql`${leaveApplications.version} + 1`, updatedAt: now })
    .where(and(eq(leaveApplications.id, applicationId), inArray(leaveApplications.status, [...openLeaveStatuses])))
    .returning();
  return row ?? null;
}

/**
 * Closes an application the caller holds locked (`for update`) and found open: nothing else can have closed it in
 * between, so a miss is a broken invariant, not a race to report.
 */
async function closeLocked(ctx: DomainContext, row: LeaveRow, outcome: LeaveOutcome, by: string | null, comment: string | null): Promise<LeaveRow> {
  const closed = await closeApplication(ctx, row.id, outcome, by, comment);
  if (!closed) throw new Error(`leave application ${row.id} was locked open but did not close`);
  return closed;
}

async function announce(ctx: DomainContext, row: LeaveRow, outcome: LeaveOutcome): Promise<void> {
  await recordEvent(ctx, {
    type: "leave.decided",
    aggregateType: "leave-application",
    aggregateId: row.id,
    data: {
      applicationId: row.id,
      userId: row.applicantUserId,
      outcome,
      decidedAt: (row.decidedAt ?? ctx.now()).toISOString(),
      decidedByUserId: row.decidedByUserId,
      courseIds: await courseIdsOf(ctx.db, row.id),
    },
  });
}

/** The applicant as an email recipient (none when disabled or erased). */
async function applicantRecipient(db: Executor, row: LeaveRow) {
  return (await recipients(db, [row.applicantUserId]))[0];
}

export interface Decider {
  userId: string;
  isAdmin: boolean;
}

/**
 * An approver (or, once escalated, any administrator) approves or rejects. Under the application's row lock, so of
 * two racing decisions the second finds it decided (409). Approval excuses the sessions and extends due dates in
 * the same transaction. The caller raises LeaveDecided on the orchestration after commit.
 */
export async function decideLeave(
  ctx: DomainContext,
  input: { applicationId: string; decider: Decider; decision: "approve" | "reject"; comment: string | null },
  options: { appUrl: string },
): Promise<Result<LeaveRow, LeaveErrorCode>> {
  const row = await lockApplication(ctx.db, input.applicationId);
  if (!row) return fail("LEAVE_NOT_FOUND");
  const who = { isApprover: await isCurrentApprover(ctx.db, row.id, input.decider.userId), isAdmin: input.decider.isAdmin, isApplicant: row.applicantUserId === input.decider.userId };
  // Someone who may not read the application does not learn that it exists.
  if (!who.isApprover && !who.isAdmin && !who.isApplicant) return fail("LEAVE_NOT_FOUND");
  if (!mayDecide(who, row.status)) {
    if (who.isApplicant) return fail("LEAVE_NOT_APPROVER", "You cannot decide your own application.");
    if (isOpenLeave(row.status)) return fail("LEAVE_NOT_APPROVER", "Administrators decide an application they are not an approver of once it has escalated.");
  }
  if (!isOpenLeave(row.status)) return fail("LEAVE_NOT_OPEN", `The application is ${row.status} already.`, { status: row.status });
  const outcome = input.decision === "approve" ? "approved" : "rejected";
  const closed = await closeLocked(ctx, row, outcome, input.decider.userId, input.comment);
  const effects = outcome === "approved" && closed.applicantKind === "learner" ? await applyApprovedLeave(ctx, closed) : null;
  await recordAudit(ctx, {
    action: "leave.decided",
    targetType: "leave-application",
    targetId: closed.id,
    details: { userId: closed.applicantUserId, outcome, escalated: row.status === "escalated", ...(effects ?? {}) },
  });
  await announce(ctx, closed, outcome);
  const applicant = await applicantRecipient(ctx.db, closed);
  if (applicant) await recordDirectEmails(ctx, [decidedEmail({ appUrl: options.appUrl, leave: closed, applicant }, outcome, input.comment)], { eventId: stepEmailId(closed.id, "decided") });
  return ok(closed);
}

/** The applicant (or an administrator for them) withdraws an open application; its approvers are told. */
export async function withdrawLeave(ctx: DomainContext, input: { applicationId: string; by: string }, options: { appUrl: string }): Promise<Result<LeaveRow, LeaveErrorCode>> {
  const row = await lockApplication(ctx.db, input.applicationId);
  if (!row) return fail("LEAVE_NOT_FOUND");
  if (!isOpenLeave(row.status)) return fail("LEAVE_NOT_OPEN", `The application is ${row.status} already.`, { status: row.status });
  const closed = await closeLocked(ctx, row, "withdrawn", input.by, null);
  await recordAudit(ctx, { action: "leave.withdrawn", targetType: "leave-application", targetId: closed.id, details: { userId: closed.applicantUserId } });
  await announce(ctx, closed, "withdrawn");
  const applicant = await applicantRecipient(ctx.db, closed);
  if (applicant) {
    const to = [...(await approversOf(ctx.db, closed.id)), ...(row.status === "escalated" ? await administrators(ctx.db) : [])].filter((r) => r.id !== closed.applicantUserId);
    await recordDirectEmails(ctx, withdrawnEmails({ appUrl: options.appUrl, leave: closed, applicant }, to), { eventId: stepEmailId(closed.id, "withdrawn") });
  }
  return ok(closed);
}

export interface WorkflowStep {
  status: LeaveStatus;
  open: boolean;
}

const stepOf = (row: LeaveRow): WorkflowStep => ({ status: row.status, open: isOpenLeave(row.status) });

/**
 * The orchestration's first step: notes that it runs (the resume timer looks for applications whose step never
 * ran) and emails the approvers. Idempotent: the emails are recorded once per recipient, however often it runs.
 */
export async function notifyApprovers(ctx: DomainContext, applicationId: string, options: { appUrl: string; escalatesAt: Date }): Promise<WorkflowStep | null> {
  const row = await lockApplication(ctx.db, applicationId);
  if (!row) return null;
  if (!row.orchestratedAt) await ctx.db.update(leaveApplications).set({ orchestratedAt: ctx.now() }).where(eq(leaveApplications.id, applicationId));
  if (!isOpenLeave(row.status)) return stepOf(row);
  const applicant = await applicantRecipient(ctx.db, row);
  if (applicant) await recordDirectEmails(ctx, requestedEmails({ appUrl: options.appUrl, leave: row, applicant }, await approversOf(ctx.db, row.id), options.escalatesAt), { eventId: stepEmailId(row.id, "requested") });
  return stepOf(row);
}

/** The escalation timer fired: a pending application escalates (administrators emailed); anything else is left alone. */
export async function escalateLeave(ctx: DomainContext, applicationId: string, options: { appUrl: string; expiresAt: Date }): Promise<WorkflowStep | null> {
  const now = ctx.now();
  const [escalated] = await ctx.db
    .update(leaveApplications)
    .set({ status: "escalated", escalatedAt: now, version: sql`${leaveApplications.version} + 1`, updatedAt: now })
    .where(and(eq(leaveApplications.id, applicationId), eq(leaveApplications.status, "pending")))
    .returning();
  if (!escalated) {
    const [row] = await ctx.db.select().from(leaveApplications).where(eq(leaveApplications.id, applicationId));
    return row ? stepOf(row) : null;
  }
  const applicant = await applicantRecipient(ctx.db, escalated);
  if (applicant) {
    const admins = await administrators(ctx.db, escalated.applicantUserId);
    await recordDirectEmails(ctx, escalatedEmails({ appUrl: options.appUrl, leave: escalated, applicant }, admins, options.expiresAt), { eventId: stepEmailId(escalated.id, "escalated") });
  }
  return stepOf(escalated);
}

/** The final timer fired: an application still open expires (the applicant emailed); a decided one is left alone. */
export async function expireLeave(ctx: DomainContext, applicationId: string, options: { appUrl: string }): Promise<WorkflowStep | null> {
  const closed = await closeApplication(ctx, applicationId, "expired", null, null);
  if (!closed) {
    const [row] = await ctx.db.select().from(leaveApplications).where(eq(leaveApplications.id, applicationId));
    return row ? stepOf(row) : null;
  }
  await announce(ctx, closed, "expired");
  const applicant = await applicantRecipient(ctx.db, closed);
  if (applicant) await recordDirectEmails(ctx, [expiredEmail({ appUrl: options.appUrl, leave: closed, applicant })], { eventId: stepEmailId(closed.id, "expired") });
  return stepOf(closed);
}

/** Open applications whose orchestration never ran its first step, made before `olderThan` (the resume timer's work). */
export async function leaveLeftUnstarted(db: Executor, olderThan: Date, limit = 100): Promise<{ id: string; createdAt: Date }[]> {
  return db
    .select({ id: leaveApplications.id, createdAt: leaveApplications.createdAt })
    .from(leaveApplications)
    .where(and(inArray(leaveApplications.status, [...openLeaveStatuses]), isNull(leaveApplications.orchestratedAt), lt(leaveApplications.createdAt, olderThan)))
    .orderBy(leaveApplications.createdAt)
    .limit(limit);
}

/**
 * Open applications whose orchestration ran but which are overdue by `marginMs`: still pending after the escalation
 * deadline, or still open after the final one. Their instance failed (an activity out of retries), was terminated
 * or lost its timer; the resume timer restarts or nudges it. Normally none, so the timer's look is cheap.
 */
export async function leaveOverdue(
  db: Executor,
  now: Date,
  deadlines: { escalationHours: number; decisionHours: number; marginMs: number },
  limit = 100,
): Promise<{ id: string; createdAt: Date }[]> {
  const { escalatesAfterMs, expiresAfterMs } = leaveDeadlineOffsetsMs(deadlines);
  const escalatedBy = new Date(now.getTime() - escalatesAfterMs - deadlines.marginMs);
  const expiredBy = new Date(now.getTime() - expiresAfterMs - deadlines.marginMs);
  return db
    .select({ id: leaveApplications.id, createdAt: leaveApplications.createdAt })
    .from(leaveApplications)
    .where(
      and(
        inArray(leaveApplications.status, [...openLeaveStatuses]),
        isNotNull(leaveApplications.orchestratedAt),
        or(and(eq(leaveApplications.status, "pending"), lt(leaveApplications.createdAt, escalatedBy)), lt(leaveApplications.createdAt, expiredBy)),
      ),
    )
    .orderBy(leaveApplications.createdAt)
    .limit(limit);
}
