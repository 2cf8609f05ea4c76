import * as df from "durable-functions";
import { z } from "zod";
import { submitAttempt, saveAnswers, startAttempt, type AttemptRow } from "../../domain/assessment/attempts.js";
import { type AssessmentRow, assessmentSeenBy, createAssessment, findAssessment, listAssessments } from "../../domain/assessment/manage-assessment.js";
import { changeAssessment, grantExtension, releaseResults } from "../../domain/assessment/change-assessment.js";
import { regradeDifferences } from "../../domain/assessment/regrade.js";
import { attemptOwnership, submissionWithFiles } from "../../domain/assessment/submissions.js";
import { MAX_ANSWER_FILE_BYTES, requestAnswerUpload } from "../../domain/assessment/answer-files.js";
import { attemptDraw, attemptSeenBy } from "../../domain/assessment/attempt-views.js";
import { totalPoints } from "../../domain/assessment/draw.js";
import { regradeInstanceId } from "../grading/regrade.js";
import { assessmentKinds } from "../../domain/db/schema/index.js";
import { type PresentedItem, poolSchema } from "../../domain/db/schema/assessment-json.js";
import { itemSchema, keySchema } from "../../domain/grading/items.js";
import { anyOf, courseMember, courseStaff, type Locator, owner } from "../platform/http/access.js";
import { assessmentCourse, attemptCourse } from "./locators.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { itemSourceSchema } from "./schemas/question-banks.js";
import { rubricAttachmentsSchema } from "./schemas/rubric.js";
import { isoOrNull, toDate } from "./schemas/dates.js";
import { deadlineInstanceId } from "../grading/attempt-deadline.js";

const iso = z.iso.datetime();
const latePolicySchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("none") }),
  z.object({ kind: z.literal("no-late-work") }),
  z.object({ kind: z.enum(["per-hour", "per-day"]), percent: z.number().min(0).max(100), floorPercent: z.number().min(0).max(100).default(0) }),
]);

const assessmentSchema = z
  .object({
    id: z.uuid(),
    courseId: z.uuid(),
    title: z.string(),
    kind: z.enum(assessmentKinds),
    items: z.array(itemSchema).meta({ description: "The fixed items (every attempt presents them)" }),
    keys: z.record(z.string(), keySchema).optional().meta({ description: "Staff only" }),
    pools: z.array(poolSchema).meta({ description: "Drawn per attempt after the fixed items, without repeats across pools" }),
    shuffleItems: z.boolean(),
    shuffleChoices: z.boolean(),
    rubrics: rubricAttachmentsSchema.meta({ description: "The rubrics scoring its essay/file items and the whole assessment (PUT /v1/assessments/{assessmentId}/rubrics)" }),
    keyVersion: z.number().int(),
    attemptsAllowed: z.number().int().nullable(),
    scoringPolicy: z.enum(["highest", "latest", "average"]),
    timeLimitMinutes: z.number().int().nullable(),
    availableFrom: iso.nullable(),
    dueAt: iso.nullable(),
    lockAt: iso.nullable(),
    latePolicy: latePolicySchema,
    releaseMode: z.enum(["immediate", "manual"]),
    category: z.string(),
    totalPoints: z
      .number()
      .nullable()
      .meta({ description: "Every attempt's total: the fixed items' points plus count × points per pool; null when a pool sets no `points` (its drawn items keep their own, which differ per draw)" }),
  })
  .meta({ id: "Assessment" });

function assessmentBody(a: AssessmentRow, keys?: Record<string, z.infer<typeof keySchema>>) {
  return {
    id: a.id,
    courseId: a.courseId,
    title: a.title,
    kind: a.kind,
    items: a.items,
    ...(keys ? { keys } : {}),
    pools: a.pools,
    shuffleItems: a.shuffleItems,
    shuffleChoices: a.shuffleChoices,
    rubrics: a.rubrics,
    keyVersion: a.keyVersion,
    attemptsAllowed: a.attemptsAllowed,
    scoringPolicy: a.scoringPolicy,
    timeLimitMinutes: a.timeLimitMinutes,
    availableFrom: isoOrNull(a.availableFrom),
    dueAt: isoOrNull(a.dueAt),
    lockAt: isoOrNull(a.lockAt),
    latePolicy: a.latePolicy,
    releaseMode: a.releaseMode,
    category: a.category,
    totalPoints: totalPoints(a),
  };
}

const attemptSchema = z
  .object({
    id: z.uuid(),
    assessmentId: z.uuid(),
    userId: z.uuid(),
    number: z.number().int(),
    status: z.enum(["in-progress", "submitted"]),
    startedAt: iso,
    deadlineAt: iso.nullable().meta({ description: "Fixed by the server at start: min(start + time limit, lock)" }),
    answers: z.record(z.string(), z.unknown()),
    submittedAt: iso.nullable(),
    submittedBy: z.enum(["learner", "deadline"]).nullable(),
    items: z
      .array(itemSchema.and(z.object({ source: itemSourceSchema.optional() })))
      .optional()
      .meta({ description: "The items this attempt presents, in its order, choices in its order (no keys)" }),
  })
  .meta({ id: "Attempt" });

const attemptBody = (t: Omit<AttemptRow, "items" | "draw">, items?: PresentedItem[]) => ({
  id: t.id,
  assessmentId: t.assessmentId,
  userId: t.userId,
  number: t.number,
  status: t.status,
  startedAt: t.startedAt.toISOString(),
  deadlineAt: isoOrNull(t.deadlineAt),
  answers: t.answers,
  submittedAt: isoOrNull(t.submittedAt),
  submittedBy: t.submittedBy,
  ...(items ? { items } : {}),
});

const attemptOwner: Locator = { describe: "the attempt's learner", resolve: async (params, db) => (await attemptOwnership(db, (params.attemptId ?? params.submissionId) as string))?.userId ?? null };

const settingsShape = {
  title: z.string().trim().min(1).max(200),
  kind: z.enum(assessmentKinds),
  items: z.array(itemSchema).max(200).default([]),
  keys: z.record(z.string(), keySchema).default({}),
  pools: z.array(poolSchema).max(20).default([]),
  shuffleItems: z.boolean().default(false),
  shuffleChoices: z.boolean().default(false),
  attemptsAllowed: z.number().int().min(1).max(100).nullable().default(1),
  scoringPolicy: z.enum(["highest", "latest", "average"]).default("highest"),
  timeLimitMinutes: z.number().int().min(1).max(24 * 60).nullable().default(null),
  availableFrom: iso.nullable().default(null),
  dueAt: iso.nullable().default(null),
  lockAt: iso.nullable().default(null),
  latePolicy: latePolicySchema.default({ kind: "none" }),
  releaseMode: z.enum(["immediate", "manual"]).default("immediate"),
  category: z.string().trim().min(1).max(60).default("Assessments"),
  requiredForCompletion: z.boolean().default(false),
};

route({
  name: "assessments-list",
  method: "GET",
  path: "/v1/courses/{courseId}/assessments",
  access: courseMember(),
  summary: "The course's quizzes and assignments",
  tags: ["assessments"],
  params: z.object({ courseId: z.uuid() }),
  responses: { 200: { description: "Assessments (no keys)", body: z.object({ items: z.array(assessmentSchema) }) } },
  handler: async ({ params }, ctx) => {
    const rows = await listAssessments(ctx.db, params.courseId);
    return { status: 200, body: { items: rows.map((a) => assessmentBody(a)) } };
  },
});

route({
  name: "assessments-create",
  method: "POST",
  path: "/v1/courses/{courseId}/assessments",
  access: courseStaff(["instructor"]),
  summary: "Create a quiz or assignment with its items and answer key",
  description:
    "Contradictory settings (e.g. lock before due, a key that names no choice) are refused with `INVALID_ASSESSMENT_SETTINGS`, and so are pools naming a bank the course may not draw from or asking for more approved matching items than the bank has (the counts are in the problem's `pools`).",
  tags: ["assessments"],
  idempotent: true,
  params: z.object({ courseId: z.uuid() }),
  body: z.object(settingsShape),
  responses: { 201: { description: "Created", body: assessmentSchema }, 422: { description: "`INVALID_ASSESSMENT_SETTINGS`" } },
  handler: async ({ params, body }, ctx) => {
    const a = unwrap(
      await ctx.transaction((tx) =>
        createAssessment(ctx.domain(tx), params.courseId, {
          ...body,
          availableFrom: toDate(body.availableFrom) ?? null,
          dueAt: toDate(body.dueAt) ?? null,
          lockAt: toDate(body.lockAt) ?? null,
        }),
      ),
    );
    return { status: 201, body: assessmentBody(a, body.keys), headers: { location: `/api/v1/assessments/${a.id}` } };
  },
});

route({
  name: "assessments-get",
  method: "GET",
  path: "/v1/assessments/{assessmentId}",
  access: courseMember(assessmentCourse),
  summary: "One assessment; its staff also see the answer key",
  tags: ["assessments"],
  params: z.object({ assessmentId: z.uuid() }),
  responses: { 200: { description: "The assessment", body: assessmentSchema }, 404: { description: "`ASSESSMENT_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const { assessment, keys } = unwrap(await assessmentSeenBy(ctx.db, params.assessmentId, ctx.caller));
    return { status: 200, body: assessmentBody(assessment, keys), headers: { "cache-control": "private, no-cache" } };
  },
});

route({
  name: "attempts-start",
  extraInputs: [df.input.durableClient()],
  method: "POST",
  path: "/v1/assessments/{assessmentId}/attempts",
  access: courseMember(assessmentCourse),
  summary: "Start an attempt; the answer carries its server-fixed deadline and the items it presents (drawn and shuffled for it)",
  tags: ["assessments"],
  idempotent: true,
  params: z.object({ assessmentId: z.uuid() }),
  responses: {
    201: { description: "The attempt (an attempt already in progress is returned as is)", body: attemptSchema },
    409: { description: "`ASSESSMENT_NOT_AVAILABLE`, `ASSESSMENT_LOCKED`, `ATTEMPTS_EXHAUSTED`, `POOL_EXHAUSTED`" },
    404: { description: "`ASSESSMENT_NOT_FOUND`" },
  },
  handler: async ({ params }, ctx) => {
    const { attempt, items } = unwrap(await ctx.transaction((tx) => startAttempt(ctx.domain(tx), params.assessmentId, ctx.caller.userId)));
    if (attempt.deadlineAt) {
      const deadlineAt = attempt.deadlineAt.toISOString();
      // The attempt's own durable timer; the attempt-deadlines timer trigger is the safety net behind it.
      ctx.afterCommit(async () => {
        const client = df.getClient(ctx.invocation);
        const instanceId = deadlineInstanceId(attempt.id);
        if ((await client.getStatus(instanceId).catch(() => undefined))?.runtimeStatus) return;
        await client.startNew("attemptDeadline", { instanceId, input: { attemptId: attempt.id, deadlineAt } });
      });
    }
    return { status: 201, body: attemptBody(attempt, items), headers: { location: `/api/v1/attempts/${attempt.id}` } };
  },
});

route({
  name: "attempts-answers-save",
  method: "PUT",
  path: "/v1/attempts/{attemptId}/answers",
  access: owner(attemptOwner),
  summary: "Save answers (merged over what was saved) while the attempt is open",
  description: "Only the attempt's presented items take answers. `itemSeconds` (seconds the client timed per item) is added to what earlier saves reported.",
  tags: ["assessments"],
  params: z.object({ attemptId: z.uuid() }),
  body: z.object({
    answers: z.record(z.string().max(64), z.union([z.string(), z.array(z.string()), z.boolean(), z.number(), z.null()])).default({}),
    itemSeconds: z.record(z.string().max(64), z.number().min(0).max(86_400)).default({}),
  }),
  responses: { 200: { description: "The attempt", body: attemptSchema }, 409: { description: "`ATTEMPT_CLOSED`" }, 422: { description: "`INVALID_ANSWER`" }, 404: { description: "`ATTEMPT_NOT_FOUND`" } },
  handler: async ({ params, body }, ctx) => {
    const attempt = unwrap(await ctx.transaction((tx) => saveAnswers(ctx.domain(tx), params.attemptId, body.answers, body.itemSeconds)));
    return { status: 200, body: attemptBody(attempt) };
  },
});

route({
  name: "attempts-get",
  method: "GET",
  path: "/v1/attempts/{attemptId}",
  access: anyOf(owner(attemptOwner), courseStaff(["instructor", "grader"], attemptCourse)),
  summary: "An attempt with the items it presents (its own draw and order; no keys)",
  tags: ["assessments"],
  params: z.object({ attemptId: z.uuid() }),
  responses: { 200: { description: "The attempt", body: attemptSchema }, 404: { description: "`ATTEMPT_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const { attempt, items } = unwrap(await attemptSeenBy(ctx.db, params.attemptId, ctx.caller.userId));
    return { status: 200, body: attemptBody(attempt, items), headers: { "cache-control": "private, no-cache" } };
  },
});

route({
  name: "attempts-draw-get",
  method: "GET",
  path: "/v1/attempts/{attemptId}/draw",
  access: courseStaff(["instructor", "grader"], attemptCourse),
  summary: "How an attempt's items were drawn: the seed, the settings, each pool's definition, candidates and draw, the order and the choice order",
  description:
    "Everything the draw used, as it was at the attempt's start (a later change to the assessment does not touch it): drawing again with `domain/assessment/draw.ts` (`storedDrawInput`) from this record, the attempt's presented fixed items and the candidates' stored versions gives the same items in the same order.",
  tags: ["assessments"],
  params: z.object({ attemptId: z.uuid() }),
  responses: {
    200: {
      description: "The stored draw",
      body: z
        .object({
          attemptId: z.uuid(),
          seed: z.number().int(),
          shuffleItems: z.boolean(),
          shuffleChoices: z.boolean(),
          fixedItemIds: z.array(z.string()).meta({ description: "The assessment's own items the attempt presents (as they were at its start)" }),
          pools: z.array(
            z.object({
              poolId: z.string(),
              pool: poolSchema,
              candidateSet: z.string().meta({ description: "The hash naming the candidate list (stored once for every attempt that drew from the same list)" }),
              candidates: z.array(itemSourceSchema),
              drawn: z.array(itemSourceSchema),
            }),
          ),
          order: z.array(z.string()),
          choiceOrder: z.record(z.string(), z.array(z.string())),
        })
        .meta({ id: "AttemptDraw" }),
    },
    404: { description: "`ATTEMPT_NOT_FOUND`, `DRAW_NOT_FOUND` (the attempt presents the assessment's items as they are)" },
  },
  handler: async ({ params }, ctx) => {
    const draw = unwrap(await attemptDraw(ctx.db, params.attemptId, ctx.caller.userId));
    return { status: 200, body: { attemptId: params.attemptId, ...draw }, headers: { "cache-control": "private, no-cache" } };
  },
});

route({
  name: "attempts-submit",
  method: "POST",
  path: "/v1/attempts/{attemptId}/submit",
  access: owner(attemptOwner),
  summary: "Submit the attempt for grading (once; repeating it changes nothing)",
  tags: ["assessments"],
  idempotent: true,
  params: z.object({ attemptId: z.uuid() }),
  responses: { 200: { description: "The submission", body: attemptSchema }, 404: { description: "`ATTEMPT_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const done = unwrap(await ctx.transaction((tx) => submitAttempt(ctx.domain(tx), params.attemptId, "learner")));
    return { status: 200, body: attemptBody(done.attempt) };
  },
});

route({
  name: "submissions-get",
  method: "GET",
  path: "/v1/submissions/{submissionId}",
  access: anyOf(owner(attemptOwner), courseStaff(["instructor", "grader"], attemptCourse)),
  summary: "A submission: its answers and when it was submitted",
  tags: ["grading"],
  params: z.object({ submissionId: z.uuid() }),
  responses: { 200: { description: "The submission, with read URLs for its file answers", body: attemptSchema.extend({ files: z.record(z.string(), z.string()) }) }, 404: { description: "`ATTEMPT_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const { submission, items, files } = unwrap(await submissionWithFiles(ctx.db, ctx.platform.files, params.submissionId, ctx.caller.userId));
    return { status: 200, body: { ...attemptBody(submission, items), files } };
  },
});

route({
  name: "assessments-update",
  method: "PATCH",
  path: "/v1/assessments/{assessmentId}",
  access: courseStaff(["instructor"], assessmentCourse),
  summary: "Change an assessment's settings or answer key",
  description:
    "A new `keys` object becomes a new key version; submissions graded with an older key are regraded (a new grade version each), each with the items its attempt presented. New `pools` or shuffling apply to attempts started afterwards.",
  tags: ["assessments"],
  params: z.object({ assessmentId: z.uuid() }),
  body: z.object({
    title: settingsShape.title.optional(),
    keys: z.record(z.string(), keySchema).optional(),
    attemptsAllowed: z.number().int().min(1).max(100).nullable().optional(),
    scoringPolicy: z.enum(["highest", "latest", "average"]).optional(),
    timeLimitMinutes: z.number().int().min(1).max(24 * 60).nullable().optional(),
    availableFrom: iso.nullable().optional(),
    dueAt: iso.nullable().optional(),
    lockAt: iso.nullable().optional(),
    latePolicy: latePolicySchema.optional(),
    releaseMode: z.enum(["immediate", "manual"]).optional(),
    category: z.string().trim().min(1).max(60).optional(),
    pools: z.array(poolSchema).max(20).optional(),
    shuffleItems: z.boolean().optional(),
    shuffleChoices: z.boolean().optional(),
  }),
  responses: { 200: { description: "Updated", body: assessmentSchema }, 422: { description: "`INVALID_ASSESSMENT_SETTINGS`" }, 404: { description: "`ASSESSMENT_NOT_FOUND`" } },
  handler: async ({ params, body }, ctx) => {
    const { availableFrom, dueAt, lockAt, ...rest } = body;
    const patch = {
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
      ...(availableFrom !== undefined ? { availableFrom: toDate(availableFrom) ?? null } : {}),
      ...(dueAt !== undefined ? { dueAt: toDate(dueAt) ?? null } : {}),
      ...(lockAt !== undefined ? { lockAt: toDate(lockAt) ?? null } : {}),
    };
    const { assessment, keys } = unwrap(await ctx.transaction((tx) => changeAssessment(ctx.domain(tx), params.assessmentId, patch)));
    return { status: 200, body: assessmentBody(assessment, keys) };
  },
});

route({
  name: "assessments-regrade",
  method: "POST",
  path: "/v1/assessments/{assessmentId}/regrade",
  access: courseStaff(["instructor"], assessmentCourse),
  summary: "Regrade the submissions graded with an older key; `dryRun=true` only returns the differences",
  tags: ["grading"],
  extraInputs: [df.input.durableClient()],
  params: z.object({ assessmentId: z.uuid() }),
  query: z.object({ dryRun: z.enum(["true", "false"]).default("false").transform((v) => v === "true") }),
  responses: {
    200: {
      description: "Dry run: per submission, the grade now and after a regrade",
      body: z.object({ dryRun: z.literal(true), differences: z.array(z.object({ submissionId: z.uuid(), userId: z.uuid(), before: z.number().nullable(), after: z.number().nullable(), keyVersionBefore: z.number().nullable(), keyVersionAfter: z.number() })) }),
    },
    202: { description: "Regrade started", body: z.object({ dryRun: z.literal(false), instanceId: z.string() }) },
    404: { description: "`ASSESSMENT_NOT_FOUND`" },
  },
  handler: async ({ params, query }, ctx) => {
    if (query.dryRun) return { status: 200, body: { dryRun: true, differences: unwrap(await regradeDifferences(ctx.db, params.assessmentId)) } };
    const a = await findAssessment(ctx.db, params.assessmentId);
    if (!a) throw new ProblemError("ASSESSMENT_NOT_FOUND");
    const client = df.getClient(ctx.invocation);
    const instanceId = regradeInstanceId(a.id, a.keyVersion);
    if (!(await client.getStatus(instanceId).catch(() => undefined))?.runtimeStatus) {
      await client.startNew("regradeAssessment", { instanceId, input: { assessmentId: a.id, keyVersion: a.keyVersion, batchSize: 20, traceparent: ctx.trace.traceparent } });
    }
    return { status: 202, body: { dryRun: false, instanceId } };
  },
});

route({
  name: "assessments-release",
  method: "POST",
  path: "/v1/assessments/{assessmentId}/release",
  access: courseStaff(["instructor"], assessmentCourse),
  summary: "Release results of an assessment graded with manual release",
  tags: ["grading"],
  params: z.object({ assessmentId: z.uuid() }),
  responses: { 200: { description: "Released", body: assessmentSchema }, 404: { description: "`ASSESSMENT_NOT_FOUND`" } },
  handler: async ({ params }, ctx) => {
    const a = unwrap(await ctx.transaction((tx) => releaseResults(ctx.domain(tx), params.assessmentId)));
    return { status: 200, body: assessmentBody(a) };
  },
});

route({
  name: "assessments-extensions-grant",
  method: "POST",
  path: "/v1/assessments/{assessmentId}/extensions",
  access: courseStaff(["instructor"], assessmentCourse),
  summary: "Give a learner a later due time and lock",
  tags: ["assessments"],
  params: z.object({ assessmentId: z.uuid() }),
  body: z.object({ userId: z.uuid(), dueAt: iso.nullable().default(null), lockAt: iso.nullable().default(null) }),
  responses: { 204: { description: "Granted" }, 404: { description: "`ASSESSMENT_NOT_FOUND`" }, 422: { description: "`INVALID_ASSESSMENT_SETTINGS`" } },
  handler: async ({ params, body }, ctx) => {
    unwrap(
      await ctx.transaction((tx) =>
        grantExtension(ctx.domain(tx), { assessmentId: params.assessmentId, userId: body.userId, dueAt: toDate(body.dueAt) ?? null, lockAt: toDate(body.lockAt) ?? null }),
      ),
    );
    return { status: 204 };
  },
});

route({
  name: "attempts-files-upload",
  method: "POST",
  path: "/v1/attempts/{attemptId}/files",
  access: owner(attemptOwner),
  summary: "Ask for a URL to upload the file answer of a file item; save the returned blob name as the answer",
  tags: ["assessments"],
  params: z.object({ attemptId: z.uuid() }),
  body: z.object({
    itemId: z.string().min(1).max(64),
    fileName: z.string().trim().min(1).max(255),
    contentType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, "a media type such as application/pdf"),
    sizeBytes: z.number().int().min(1).max(MAX_ANSWER_FILE_BYTES),
  }),
  responses: { 201: { description: "Upload URL", body: z.object({ blobName: z.string(), url: z.string(), method: z.literal("PUT"), headers: z.record(z.string(), z.string()), expiresAt: iso }) }, 404: { description: "`ATTEMPT_NOT_FOUND`" }, 409: { description: "`ATTEMPT_CLOSED`" }, 422: { description: "`INVALID_ANSWER`" } },
  handler: async ({ params, body }, ctx) => {
    const grant = unwrap(await requestAnswerUpload(ctx.domain(), ctx.platform.files, params.attemptId, body));
    return { status: 201, body: { ...grant, expiresAt: grant.expiresAt.toISOString() }, headers: { "cache-control": "no-store" } };
  },
});
