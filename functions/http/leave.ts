import * as df from "durable-functions";
import { z } from "zod";
import { isOpenLeave, leaveApplicantKinds, leaveStatuses, openLeaveStatuses } from "../../domain/db/schema/index.js";
import { applyForLeave, confirmLeaveDocument, leaveDocumentTypes, leaveInstanceId, type LeaveRow, MAX_LEAVE_DOCUMENT_BYTES } from "../../domain/leave/apply-leave.js";
import { decideLeave, withdrawLeave } from "../../domain/leave/decide-leave.js";
import { applicantOf, leaveSeenBy, leaveToDecide, myLeave } from "../../domain/leave/leave-view.js";
import { instanceStatus } from "../platform/durable-status.js";
import { authenticated, type Locator, owner } from "../platform/http/access.js";
import { decodeCursorAs, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { type RouteContext, route } from "../platform/http/route.js";
import { LEAVE_DECIDED_EVENT, type LeaveDecidedPayload } from "../leave/leave-approval.js";
import { leaveStageSchema } from "../leave/leave-status.js";
import { startLeaveApproval } from "../leave/start-leave-approval.js";

const iso = z.iso.datetime();
const DOCUMENT_URL_TTL_SECONDS = 15 * 60;

const applicationParams = z.object({ applicationId: z.uuid() });
const applicant: Locator = { describe: "the application's applicant", resolve: (params, db) => applicantOf(db, params.applicationId as string) };

const applicationSchema = z
  .object({
    id: z.uuid(),
    applicantUserId: z.uuid(),
    kind: z.enum(leaveApplicantKinds),
    startsAt: iso,
    endsAt: iso,
    reason: z.string(),
    status: z.enum(leaveStatuses),
    document: z
      .object({ fileName: z.string(), contentType: z.string(), sizeBytes: z.number().int(), uploaded: z.boolean().meta({ description: "false until the upload is confirmed" }) })
      .nullable(),
    escalatedAt: iso.nullable(),
    decidedAt: iso.nullable(),
    decidedByUserId: z.uuid().nullable(),
    decisionComment: z.string().nullable(),
    instanceId: z.string().meta({ description: "The durable orchestration (`leave-<id>`) that carries the workflow" }),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: "LeaveApplication" });

const applicationBody = (a: LeaveRow): z.infer<typeof applicationSchema> => ({
  id: a.id,
  applicantUserId: a.applicantUserId,
  kind: a.applicantKind,
  startsAt: a.startsAt.toISOString(),
  endsAt: a.endsAt.toISOString(),
  reason: a.reason,
  status: a.status,
  document:
    a.documentFileName && a.documentContentType && a.documentSizeBytes !== null
      ? { fileName: a.documentFileName, contentType: a.documentContentType, sizeBytes: a.documentSizeBytes, uploaded: a.documentBlob !== null }
      : null,
  escalatedAt: a.escalatedAt?.toISOString() ?? null,
  decidedAt: a.decidedAt?.toISOString() ?? null,
  decidedByUserId: a.decidedByUserId,
  decisionComment: a.decisionComment,
  instanceId: a.instanceId,
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
});

const leaveCursor = z.tuple([iso, z.uuid()]);
function pageAfter(cursor: string | undefined) {
  const position = decodeCursorAs(cursor, leaveCursor);
  return position && { createdAt: position[0], id: position[1] };
}
const positionOf = (a: LeaveRow) => [a.createdAt.toISOString(), a.id];

const raiseDecided = (ctx: RouteContext, application: LeaveRow, payload: LeaveDecidedPayload) => async () => {
  await df.getClient(ctx.invocation).raiseEvent(application.instanceId, LEAVE_DECIDED_EVENT, payload);
};

route({
  name: "leave-apply",
  method: "POST",
  path: "/v1/leave-applications",
  access: authenticated,
  summary: "Apply for leave over [startsAt, endsAt), with a reason and optionally a supporting document",
  description:
    "A learner's leave is decided by the instructors (not graders) who teach every course it touches, each within " +
    "their section scope (with no such instructor, the administrators; touching no course, the instructors of their " +
    "active courses). Course staff (and administrators) apply for their own " +
    "leave as staff with `kind: \"staff\"`; administrators decide it. With `document`, the answer carries a " +
    "create-only upload URL (PUT the bytes with its headers), then confirm with POST .../document. The approvers are " +
    "emailed; an undecided application escalates to the administrators after LEAVE_ESCALATION_HOURS and expires " +
    "after LEAVE_DECISION_HOURS.",
  tags: ["leave"],
  idempotent: true,
  extraInputs: [df.input.durableClient()],
  body: z.object({
    kind: z.enum(leaveApplicantKinds).default("learner"),
    startsAt: iso,
    endsAt: iso,
    reason: z.string().trim().min(1).max(2_000),
    document: z
      .object({
        fileName: z.string().trim().min(1).max(255),
        contentType: z.string().regex(leaveDocumentTypes, "application/pdf, image/png, image/jpeg, image/gif, image/webp or text/plain"),
        sizeBytes: z.number().int().min(1).max(MAX_LEAVE_DOCUMENT_BYTES),
      })
      .optional(),
  }),
  responses: {
    201: {
      description: "Applied; the approval workflow has started",
      body: z.object({
        application: applicationSchema,
        upload: z.object({ blobName: z.string(), url: z.string(), method: z.literal("PUT"), headers: z.record(z.string(), z.string()), expiresAt: iso }).nullable(),
      }),
    },
    403: { description: "`LEAVE_NOT_STAFF` (asked as staff by someone on no course's staff)" },
    409: { description: "`LEAVE_OVERLAP` (with the application it overlaps)" },
    422: { description: "`LEAVE_RANGE_INVALID`, `LEAVE_TOO_FAR_IN_PAST`, `LEAVE_TOO_LONG`" },
  },
  handler: async ({ body }, ctx) => {
    const s = ctx.platform.settings;
    const applied = unwrap(
      await ctx.transaction((tx) =>
        applyForLeave(
          ctx.domain(tx),
          ctx.platform.files,
          {
            applicantUserId: ctx.caller.userId,
            kind: body.kind,
            isAdmin: ctx.caller.isAdmin,
            startsAt: new Date(body.startsAt),
            endsAt: new Date(body.endsAt),
            reason: body.reason,
            ...(body.document ? { document: body.document } : {}),
          },
          { maxPastDays: s.LEAVE_MAX_PAST_DAYS, maxDays: s.LEAVE_MAX_DAYS },
        ),
      ),
    );
    const { application, upload } = applied;
    // A start lost here (the host stops) is made by the leave-resume timer.
    ctx.afterCommit(async () => {
      await startLeaveApproval(ctx.platform, df.getClient(ctx.invocation), application);
    });
    return {
      status: 201,
      body: { application: applicationBody(application), upload: upload ? { ...upload, expiresAt: upload.expiresAt.toISOString() } : null },
      headers: { location: `/api/v1/leave-applications/${application.id}`, "cache-control": "no-store" },
    };
  },
});

route({
  name: "leave-document-confirm",
  method: "POST",
  path: "/v1/leave-applications/{applicationId}/document",
  access: owner(applicant),
  summary: "Confirm the supporting document's upload: it shows once it matches what was declared",
  tags: ["leave"],
  params: applicationParams,
  responses: {
    200: { description: "The application with its document", body: applicationSchema },
    404: { description: "`LEAVE_NOT_FOUND`" },
    409: { description: "`FILE_NOT_UPLOADED`, `LEAVE_NOT_OPEN` (decided, withdrawn or expired: nothing is attached to it any more)" },
    422: { description: "`FILE_MISMATCH`" },
  },
  handler: async ({ params }, ctx) => {
    const row = unwrap(await ctx.transaction((tx) => confirmLeaveDocument(ctx.domain(tx), ctx.platform.files, params.applicationId)));
    return { status: 200, body: applicationBody(row) };
  },
});

route({
  name: "me-leave-applications-list",
  method: "GET",
  path: "/v1/me/leave-applications",
  access: authenticated,
  summary: "My leave applications, newest first",
  tags: ["leave"],
  query: z.object({ ...pageQuery }),
  responses: { 200: { description: "A page of applications", body: pageOf(applicationSchema) } },
  handler: async ({ query, request }, ctx) => {
    const after = pageAfter(query.cursor);
    const rows = await myLeave(ctx.db, ctx.caller.userId, { limit: query.limit, ...(after ? { after } : {}) });
    const page = paginate(rows, query.limit, positionOf);
    return { status: 200, body: { items: page.items.map(applicationBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "leave-applications-list",
  method: "GET",
  path: "/v1/leave-applications",
  access: authenticated,
  summary: "Leave applications to decide: where I am an approver, and (administrators) every escalated one; oldest first",
  description: "`status` narrows to one status; without it, the open ones (pending and escalated).",
  tags: ["leave"],
  query: z.object({ ...pageQuery, status: z.enum(leaveStatuses).optional() }),
  responses: { 200: { description: "A page of applications", body: pageOf(applicationSchema) } },
  handler: async ({ query, request }, ctx) => {
    const after = pageAfter(query.cursor);
    const rows = await leaveToDecide(
      ctx.db,
      { userId: ctx.caller.userId, isAdmin: ctx.caller.isAdmin },
      { limit: query.limit, statuses: query.status ? [query.status] : openLeaveStatuses, ...(after ? { after } : {}) },
    );
    const page = paginate(rows, query.limit, positionOf);
    return { status: 200, body: { items: page.items.map(applicationBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "leave-applications-get",
  method: "GET",
  path: "/v1/leave-applications/{applicationId}",
  access: authenticated,
  summary: "One leave application (its applicant, approvers and administrators), with its workflow's status and document link",
  tags: ["leave"],
  extraInputs: [df.input.durableClient()],
  params: applicationParams,
  responses: {
    200: {
      description: "The application",
      body: applicationSchema.extend({
        approverIds: z.array(z.uuid()),
        courseIds: z.array(z.uuid()),
        canDecide: z.boolean().meta({ description: "Whether the caller may decide it now" }),
        documentUrl: z.string().nullable().meta({ description: `A read-only link to the confirmed document, valid ${DOCUMENT_URL_TTL_SECONDS / 60} minutes` }),
        orchestration: z.object({
          runtimeStatus: z.enum(df.OrchestrationRuntimeStatus).nullable().meta({ description: "null: not started yet" }),
          customStatus: leaveStageSchema.nullable(),
          lastUpdatedTime: iso.nullable(),
        }),
      }),
    },
    404: { description: "`LEAVE_NOT_FOUND` (also for someone who is not its applicant, an approver or an administrator)" },
  },
  handler: async ({ params }, ctx) => {
    // The orchestration's status first, then the row: a step commits its row before the orchestration records it,
    // so the row read after is never behind the stage shown beside it.
    // Only a missing instance reads as "not started"; a task hub that cannot answer is an error, not a state.
    const status = await instanceStatus(df.getClient(ctx.invocation), leaveInstanceId(params.applicationId));
    const view = unwrap(await leaveSeenBy(ctx.db, params.applicationId, { userId: ctx.caller.userId, isAdmin: ctx.caller.isAdmin }));
    const a = view.application;
    // A closed row is done whatever the instance says (its LeaveDecided may be lost; its next timer ends it).
    const closed = !isOpenLeave(a.status);
    const stage = closed
      ? leaveStageSchema.safeParse({ stage: "done", status: a.status })
      : leaveStageSchema.safeParse(status?.customStatus);
    const documentUrl = a.documentBlob ? (await ctx.platform.files.downloadUrl(a.documentBlob, DOCUMENT_URL_TTL_SECONDS, a.documentFileName ?? "document")).url : null;
    return {
      status: 200,
      body: {
        ...applicationBody(a),
        approverIds: view.approverIds,
        courseIds: view.courseIds,
        canDecide: view.canDecide,
        documentUrl,
        orchestration: {
          runtimeStatus: status?.runtimeStatus ?? null,
          customStatus: stage.success ? stage.data : null,
          lastUpdatedTime: status?.lastUpdatedTime ? new Date(status.lastUpdatedTime).toISOString() : null,
        },
      },
      headers: { "cache-control": "no-store" },
    };
  },
});

route({
  name: "leave-applications-decide",
  method: "POST",
  path: "/v1/leave-applications/{applicationId}/decision",
  access: authenticated,
  summary: "Approve or reject a leave application (its approvers; administrators once it has escalated)",
  description:
    "Approval excuses the applicant's sessions in the range (existing marks included) and, in courses whose attendance " +
    "policy says so, moves their assessments due inside the leave by its length. The applicant is emailed. " +
    "Approvers are checked against the current course staff (removed or re-scoped staff no longer decide). " +
    "Administrators who are not approvers decide only after the escalation, so course staff have the first say.",
  tags: ["leave"],
  extraInputs: [df.input.durableClient()],
  params: applicationParams,
  body: z.object({ decision: z.enum(["approve", "reject"]), comment: z.string().trim().max(2_000).optional() }),
  responses: {
    200: { description: "Decided", body: applicationSchema },
    404: { description: "`LEAVE_NOT_FOUND` (also for someone who is not its applicant, a current approver or an administrator)" },
    409: {
      description:
        "`LEAVE_NOT_OPEN` (decided, withdrawn or expired already; with its `status`), `LEAVE_NOT_APPROVER` (the applicant's own, or an administrator's before the escalation)",
    },
  },
  handler: async ({ params, body }, ctx) => {
    const row = unwrap(
      await ctx.transaction((tx) =>
        decideLeave(
          ctx.domain(tx),
          { applicationId: params.applicationId, decider: { userId: ctx.caller.userId, isAdmin: ctx.caller.isAdmin }, decision: body.decision, comment: body.comment || null },
          { appUrl: ctx.platform.settings.PUBLIC_APP_URL },
        ),
      ),
    );
    ctx.afterCommit(raiseDecided(ctx, row, { status: row.status === "approved" ? "approved" : "rejected", by: ctx.caller.userId }));
    return { status: 200, body: applicationBody(row) };
  },
});

route({
  name: "leave-applications-withdraw",
  method: "POST",
  path: "/v1/leave-applications/{applicationId}/withdraw",
  access: owner(applicant),
  summary: "Withdraw a leave application before it is decided (its applicant, or an administrator for them)",
  tags: ["leave"],
  extraInputs: [df.input.durableClient()],
  params: applicationParams,
  responses: {
    200: { description: "Withdrawn; its approvers are told", body: applicationSchema },
    404: { description: "`LEAVE_NOT_FOUND`" },
    409: { description: "`LEAVE_NOT_OPEN`" },
  },
  handler: async ({ params }, ctx) => {
    const row = unwrap(await ctx.transaction((tx) => withdrawLeave(ctx.domain(tx), { applicationId: params.applicationId, by: ctx.caller.userId }, { appUrl: ctx.platform.settings.PUBLIC_APP_URL })));
    ctx.afterCommit(raiseDecided(ctx, row, { status: "withdrawn", by: ctx.caller.userId }));
    return { status: 200, body: applicationBody(row) };
  },
});
