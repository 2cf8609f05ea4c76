import { and, eq, gt, gte, inArray, lt, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { assessments, courseStaff, enrollments, isOpenLeave, leaveApplications, leaveApprovers, leaveCourses, type LeaveApplicantKind, openLeaveStatuses, users } from "../db/schema/index.js";
import { checkUpload, type FileStore, type UploadGrant } from "../catalog/file-store.js";
import { recordAudit } from "../audit/record-audit.js";
import { recordEvent } from "../outbox/record-event.js";
import { learnerSessions, staffSessions } from "../schedule/attendees.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { LeaveErrorCode } from "./leave.errors.js";
import { type Approver, instructorApprovers } from "./leave-approvers.js";
import { administrators } from "./leave-emails.js";
import { checkLeaveRange, type LeaveLimits } from "./leave-rules.js";

export const MAX_LEAVE_DOCUMENT_BYTES = 20 * 1024 ** 2;
/** Media types a supporting document may have: PDF, images and plain text. */
export const leaveDocumentTypes = /^(application\/pdf|image\/(png|jpeg|gif|webp)|text\/plain)$/;
const UPLOAD_TTL_SECONDS = 15 * 60;

export interface ApplyInput {
  applicantUserId: string;
  /** Staff leave is asked for as staff (`kind: "staff"`): only someone on a course's staff (or an admin) may. */
  kind: LeaveApplicantKind;
  isAdmin: boolean;
  startsAt: Date;
  endsAt: Date;
  reason: string;
  document?: { fileName: string; contentType: string; sizeBytes: number };
}

export type LeaveRow = typeof leaveApplications.$inferSelect;

export interface Applied {
  application: LeaveRow;
  approverIds: string[];
  courseIds: string[];
  upload: (UploadGrant & { blobName: string }) | null;
}

/** Every blob of a user's applications lives under this prefix; erasure deletes it whole. */
export const leaveFilePrefix = (userId: string) => `leave/${userId}/`;
export const leaveDocumentBlob = (userId: string, applicationId: string) => `${leaveFilePrefix(userId)}${applicationId}/document`;
export const leaveInstanceId = (applicationId: string) => `leave-${applicationId}`;

/**
 * Who decides a learner's leave (see leave-approvers.ts): the instructors of every course it touches; with no course
 * touched, the instructors of their active courses; with none, the administrators.
 */
async function learnerApprovers(db: Executor, userId: string, courseIds: string[]): Promise<Approver[]> {
  const found = await instructorApprovers(db, userId, courseIds.length > 0 ? courseIds : null);
  return found.length > 0 ? found : adminApprovers(db, userId);
}

async function adminApprovers(db: Executor, applicantUserId: string): Promise<Approver[]> {
  return (await administrators(db, applicantUserId)).map((r) => ({ userId: r.id, courseId: null }));
}

/** The learner's active courses with an assessment due inside the leave (what an approval may extend). */
async function coursesWithDueDates(db: Executor, userId: string, range: { startsAt: Date; endsAt: Date }): Promise<string[]> {
  const rows = await db
    .selectDistinct({ courseId: assessments.courseId })
    .from(assessments)
    .innerJoin(enrollments, and(eq(enrollments.courseId, assessments.courseId), eq(enrollments.userId, userId), eq(enrollments.status, "active")))
    .where(and(gte(assessments.dueAt, range.startsAt), lt(assessments.dueAt, range.endsAt)));
  return rows.map((r) => r.courseId);
}

/**
 * Applies for leave over [startsAt, endsAt). Under the applicant's row lock (two applies of one user run one after
 * the other, so an overlap cannot slip between them) it refuses an overlap with their pending, escalated or approved
 * leave, fixes the approvers and the courses touched, and records `leave.requested`. With a document, the server
 * names its blob and hands out a create-only upload URL; the document shows once its upload is confirmed.
 * The caller starts the `leave-<id>` orchestration after commit.
 */
export async function applyForLeave(ctx: DomainContext, store: FileStore, input: ApplyInput, limits: LeaveLimits): Promise<Result<Applied, LeaveErrorCode>> {
  const now = ctx.now();
  const range = checkLeaveRange(input, now, limits);
  if (!range.ok) return range;
  const db = ctx.db;
  if (input.kind === "staff" && !input.isAdmin) {
    const [staff] = await db.select({ userId: courseStaff.userId }).from(courseStaff).where(eq(courseStaff.userId, input.applicantUserId)).limit(1);
    if (!staff) return fail("LEAVE_NOT_STAFF", "Only course staff (or administrators) apply for leave as staff; apply as a learner.");
  }
  await db.select({ id: users.id }).from(users).where(eq(users.id, input.applicantUserId)).for("update");
  const [overlap] = await db
    .select({ id: leaveApplications.id, status: leaveApplications.status, startsAt: leaveApplications.startsAt, endsAt: leaveApplications.endsAt })
    .from(leaveApplications)
    .where(
      and(
        eq(leaveApplications.applicantUserId, input.applicantUserId),
        inArray(leaveApplications.status, [...openLeaveStatuses, "approved"]),
        lt(leaveApplications.startsAt, input.endsAt),
        gt(leaveApplications.endsAt, input.startsAt),
      ),
    )
    .limit(1);
  if (overlap) {
    return fail("LEAVE_OVERLAP", "You have leave over part of this range already (pending, escalated or approved).", {
      applicationId: overlap.id,
      status: overlap.status,
      startsAt: overlap.startsAt.toISOString(),
      endsAt: overlap.endsAt.toISOString(),
    });
  }

  const between = { from: input.startsAt, to: input.endsAt };
  let approvers: Approver[];
  let courseIds: string[];
  if (input.kind === "staff") {
    approvers = await adminApprovers(db, input.applicantUserId);
    courseIds = [...new Set((await staffSessions(db, input.applicantUserId, between)).map((s) => s.courseId))];
  } else {
    const sessions = await learnerSessions(db, input.applicantUserId, between);
    courseIds = [...new Set([...sessions.map((s) => s.courseId), ...(await coursesWithDueDates(db, input.applicantUserId, input))])];
    approvers = await learnerApprovers(db, input.applicantUserId, courseIds);
  }

  const id = ctx.newId();
  const [application] = await db
    .insert(leaveApplications)
    .values({
      id,
      applicantUserId: input.applicantUserId,
      applicantKind: input.kind,
      startsAt: input.startsAt,
      endsAt: input.endsAt,
      reason: input.reason,
      documentFileName: input.document?.fileName ?? null,
      documentContentType: input.document?.contentType ?? null,
      documentSizeBytes: input.document?.sizeBytes ?? null,
      instanceId: leaveInstanceId(id),
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (approvers.length > 0) await db.insert(leaveApprovers).values(approvers.map((a) => ({ applicationId: id, ...a })));
  if (courseIds.length > 0) await db.insert(leaveCourses).values(courseIds.map((courseId) => ({ applicationId: id, courseId })));
  // No reason in the event: events go to webhooks, and a reason may be private (health).
  await recordEvent(ctx, {
    type: "leave.requested",
    aggregateType: "leave-application",
    aggregateId: id,
    data: { applicationId: id, userId: input.applicantUserId, kind: input.kind, startsAt: input.startsAt.toISOString(), endsAt: input.endsAt.toISOString(), courseIds },
  });
  await recordAudit(ctx, { action: "leave.requested", targetType: "leave-application", targetId: id, details: { userId: input.applicantUserId, kind: input.kind } });
  const blobName = leaveDocumentBlob(input.applicantUserId, id);
  const upload = input.document ? { ...(await store.uploadUrl(blobName, input.document.contentType, UPLOAD_TTL_SECONDS)), blobName } : null;
  return ok({ application: application as LeaveRow, approverIds: approvers.map((a) => a.userId), courseIds, upload });
}

/**
 * The applicant confirms their document's upload: it shows once the stored blob matches what was declared (type and
 * exact size). The route lets only its applicant (or an admin) confirm.
 */
export async function confirmLeaveDocument(ctx: DomainContext, store: FileStore, applicationId: string): Promise<Result<LeaveRow, LeaveErrorCode>> {
  const [row] = await ctx.db.select().from(leaveApplications).where(eq(leaveApplications.id, applicationId)).for("update");
  if (!row) return fail("LEAVE_NOT_FOUND");
  // A closed application's record is final: nothing is attached to it afterwards.
  if (!isOpenLeave(row.status)) return fail("LEAVE_NOT_OPEN", `The application is ${row.status} already.`, { status: row.status });
  if (!row.documentContentType || row.documentSizeBytes === null) return fail("FILE_NOT_UPLOADED", "This application declared no document.");
  if (row.documentBlob) return ok(row);
  const blobName = leaveDocumentBlob(row.applicantUserId, row.id);
  const checked = await checkUpload(store, blobName, { contentType: row.documentContentType, sizeBytes: row.documentSizeBytes });
  if (!checked.ok) return checked;
  const [updated] = await ctx.db
    .update(leaveApplications)
    .set({ documentBlob: blobName, version: sql`${leaveApplications.version} + 1`, updatedAt: ctx.now() })
    .where(eq(leaveApplications.id, applicationId))
    .returning();
  return ok(updated as LeaveRow);
}
