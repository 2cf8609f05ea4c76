import { and, asc, desc, eq, gt, inArray, lt, or, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { isOpenLeave, leaveApplications, leaveApprovers, leaveCourses, type LeaveStatus } from "../db/schema/index.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { LeaveRow } from "./apply-leave.js";
import type { LeaveErrorCode } from "./leave.errors.js";
import { currentApprover, currentApproverIds } from "./leave-approvers.js";
import { mayDecide } from "./leave-rules.js";

export interface LeaveView {
  application: LeaveRow;
  approverIds: string[];
  courseIds: string[];
  /** Whether the viewer may decide it now. */
  canDecide: boolean;
}

export interface Viewer {
  userId: string;
  isAdmin: boolean;
}

/** The courses an application touches, in id order. */
export async function courseIdsOf(db: Executor, applicationId: string): Promise<string[]> {
  const rows = await db.select({ courseId: leaveCourses.courseId }).from(leaveCourses).where(eq(leaveCourses.applicationId, applicationId)).orderBy(leaveCourses.courseId);
  return rows.map((r) => r.courseId);
}

/** One application as its applicant, an approver or an administrator sees it; anyone else finds nothing. */
export async function leaveSeenBy(db: Executor, applicationId: string, viewer: Viewer): Promise<Result<LeaveView, LeaveErrorCode>> {
  const [application] = await db.select().from(leaveApplications).where(eq(leaveApplications.id, applicationId));
  if (!application) return fail("LEAVE_NOT_FOUND");
  // Listed approvers who no longer teach the courses (removed, re-scoped) neither read nor decide it.
  const approverIds = await currentApproverIds(db, applicationId);
  const isApprover = approverIds.includes(viewer.userId);
  const isApplicant = application.applicantUserId === viewer.userId;
  if (!isApplicant && !isApprover && !viewer.isAdmin) return fail("LEAVE_NOT_FOUND");
  const courseIds = await courseIdsOf(db, applicationId);
  const open = isOpenLeave(application.status);
  return ok({ application, approverIds, courseIds, canDecide: open && mayDecide({ isApprover, isAdmin: viewer.isAdmin, isApplicant }, application.status) });
}

export interface PageAfter {
  createdAt: string;
  id: string;
}

/** The applicant's own applications, newest first (limit + 1 rows, for the page cut). */
export async function myLeave(db: Executor, userId: string, q: { limit: number; after?: PageAfter }): Promise<LeaveRow[]> {
  const after = q.after
    ? or(lt(leaveApplications.createdAt, new Date(q.after.createdAt)), and(eq(leaveApplications.createdAt, new Date(q.after.createdAt)), lt(leaveApplications.id, q.after.id)))
    : undefined;
  return db
    .select()
    .from(leaveApplications)
    .where(and(eq(leaveApplications.applicantUserId, userId), after))
    .orderBy(desc(leaveApplications.createdAt), desc(leaveApplications.id))
    .limit(q.limit + 1);
}

/**
 * Applications the viewer may decide or has had to decide: those listing them as an approver, and for an
 * administrator every escalated one too. Oldest first; by default the open ones (pending and escalated).
 */
export async function leaveToDecide(db: Executor, viewer: Viewer, q: { limit: number; statuses: readonly LeaveStatus[]; after?: PageAfter }): Promise<LeaveRow[]> {
  // Driven by the approvers' user_id index, whatever the status asked for.
  const listed = and(
    inArray(leaveApplications.id, db.select({ id: leaveApprovers.applicationId }).from(leaveApprovers).where(eq(leaveApprovers.userId, viewer.userId))),
    currentApprover(leaveApplications.id, viewer.userId),
  );
  const mine = viewer.isAdmin ? or(listed, sql`${leaveApplications.escalatedAt} is not null`) : listed;
  const after = q.after
    ? or(gt(leaveApplications.createdAt, new Date(q.after.createdAt)), and(eq(leaveApplications.createdAt, new Date(q.after.createdAt)), gt(leaveApplications.id, q.after.id)))
    : undefined;
  return db
    .select()
    .from(leaveApplications)
    .where(and(inArray(leaveApplications.status, [...q.statuses]), mine, after))
    .orderBy(asc(leaveApplications.createdAt), asc(leaveApplications.id))
    .limit(q.limit + 1);
}

/** The applicant of an application, or null when there is none (for the access check). */
export async function applicantOf(db: Executor, applicationId: string): Promise<string | null> {
  const [row] = await db.select({ userId: leaveApplications.applicantUserId }).from(leaveApplications).where(eq(leaveApplications.id, applicationId));
  return row?.userId ?? null;
}
