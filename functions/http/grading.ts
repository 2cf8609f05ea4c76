import * as df from "durable-functions";
import { z } from "zod";
import { submitManualScores } from "../../domain/grading/grade-submission.js";
import { gradeOwnership, gradeSeenBy } from "../../domain/grading/results-release.js";
import { anyOf, courseStaff, type Locator, owner } from "../platform/http/access.js";
import { unwrap } from "../platform/http/problem.js";
import { decodeCursorAs, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { gradingQueueSeenBy } from "../../domain/grading/grading-queue.js";
import { submissionSeenBy } from "../../domain/sections/staff-scope.js";
import { type RouteContext, route } from "../platform/http/route.js";
import { gradingInstanceId, MANUAL_GRADE_EVENT } from "../grading/grade-submission.js";
import { type GradingStatus, gradingStatusSchema } from "../grading/grading-status.js";
import { attemptCourse } from "./locators.js";
import { itemScoreSchema, rubricChoicesSchema } from "./schemas/rubric.js";

const gradeCourse: Locator = { describe: "the grade's course", resolve: async (params, db) => (await gradeOwnership(db, params.gradeId as string))?.courseId ?? null };
const gradeOwner: Locator = { describe: "the grade's learner", resolve: async (params, db) => (await gradeOwnership(db, params.gradeId as string))?.userId ?? null };

/** The orchestration's custom status as documented; a shape the schema does not know is logged, not passed on. */
function customStatusOf(value: unknown, ctx: RouteContext): GradingStatus | null {
  if (value === null || value === undefined) return null;
  const parsed = gradingStatusSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  ctx.log.warn("grading status of an unknown shape", { customStatus: value });
  return null;
}

route({
  name: "grades-manual-submit",
  method: "POST",
  path: "/v1/submissions/{submissionId}/grades",
  access: courseStaff(["instructor", "grader"], attemptCourse),
  summary: "Score the manual items of a submission (per item, with feedback), with points or by rubric",
  description:
    "Per score either `points` or `rubric` (choices on the rubric attached to the item, or the assessment's whole rubric: every criterion once, a level of a levels criterion, free points up to a free criterion's maximum; the item's points are its points × the rubric points earned ÷ the rubric's maximum). `wholeRubric` scores every manual item the whole-assessment rubric scores at once. Raises ManualGradeSubmitted on the submission's grading orchestration, which records the grade once no item waits.",
  tags: ["grading"],
  idempotent: true,
  extraInputs: [df.input.durableClient()],
  params: z.object({ submissionId: z.uuid() }),
  body: z
    .object({
      scores: z
        .array(
          z
            .object({ itemId: z.string().min(1).max(64), points: z.number().min(0).optional(), rubric: rubricChoicesSchema.optional(), feedback: z.string().max(10_000).default("") })
            .refine((s) => (s.points === undefined) !== (s.rubric === undefined), "give either points or rubric"),
        )
        .max(200)
        .default([]),
      wholeRubric: rubricChoicesSchema.optional().meta({ description: "Choices on the assessment's whole rubric, for every manual item it scores" }),
    })
    .refine((b) => b.scores.length > 0 || b.wholeRubric !== undefined, "give scores, wholeRubric or both"),
  responses: {
    200: { description: "Items still waiting for a grader", body: z.object({ waitingItems: z.array(z.string()) }) },
    404: { description: "`ATTEMPT_NOT_FOUND`" },
    422: { description: "`INVALID_ANSWER`, `INVALID_RUBRIC_CHOICES`" },
  },
  handler: async ({ params, body }, ctx) => {
    const result = unwrap(await ctx.transaction((tx) => submitManualScores(ctx.domain(tx), params.submissionId, body.scores, body.wholeRubric)));
    ctx.afterCommit(async () => {
      await df.getClient(ctx.invocation).raiseEvent(gradingInstanceId(params.submissionId), MANUAL_GRADE_EVENT, { by: ctx.caller.userId });
    });
    return { status: 200, body: result };
  },
});

const queueCursor = z.tuple([z.iso.datetime(), z.uuid()]);

route({
  name: "grading-queue-list",
  method: "GET",
  path: "/v1/courses/{courseId}/grading-queue",
  access: courseStaff(["instructor", "grader"]),
  summary: "Submissions waiting for a grader (answered essay or file items without a score), oldest first",
  description: "A grader scoped to sections sees only their sections' learners; `section` narrows to one section.",
  tags: ["grading"],
  params: z.object({ courseId: z.uuid() }),
  query: z.object({ ...pageQuery, section: z.uuid().optional() }),
  responses: {
    200: {
      description: "A page of the queue",
      body: pageOf(
        z.object({ submissionId: z.uuid(), assessmentId: z.uuid(), assessmentTitle: z.string(), userId: z.uuid(), displayName: z.string(), submittedAt: z.iso.datetime(), waitingItems: z.array(z.string()) }),
      ),
    },
    403: { description: "`SECTION_OUT_OF_SCOPE`" },
    404: { description: "`SECTION_NOT_FOUND`" },
  },
  handler: async ({ params, query, request }, ctx) => {
    const [submittedAt, submissionId] = decodeCursorAs(query.cursor, queueCursor) ?? [];
    const rows = unwrap(
      await gradingQueueSeenBy(ctx.db, params.courseId, ctx.caller, {
        limit: query.limit,
        ...(query.section ? { section: query.section } : {}),
        ...(submittedAt && submissionId ? { after: { submittedAt, submissionId } } : {}),
      }),
    );
    const page = paginate(rows, query.limit, (r) => [r.submittedAt.toISOString(), r.submissionId]);
    return {
      status: 200,
      body: { items: page.items.map((r) => ({ ...r, submittedAt: r.submittedAt.toISOString() })), nextCursor: page.nextCursor },
      headers: nextLink(request.url, page.nextCursor),
    };
  },
});

route({
  name: "grading-status-get",
  method: "GET",
  path: "/v1/submissions/{submissionId}/grading",
  access: courseStaff(["instructor", "grader"], attemptCourse),
  summary: "Where the submission's grading stands (from the durable orchestration)",
  tags: ["grading"],
  extraInputs: [df.input.durableClient()],
  params: z.object({ submissionId: z.uuid() }),
  responses: {
    200: {
      description: "The orchestration's status",
      body: z.object({
        instanceId: z.string(),
        runtimeStatus: z.enum(df.OrchestrationRuntimeStatus).nullable().meta({ description: "null: grading has not started" }),
        customStatus: gradingStatusSchema.nullable().meta({ description: "The orchestration's phase; null before its first step" }),
        createdTime: z.iso.datetime().nullable(),
        lastUpdatedTime: z.iso.datetime().nullable(),
      }),
    },
    404: { description: "`ATTEMPT_NOT_FOUND` (also for a grader scoped to other sections)" },
  },
  handler: async ({ params }, ctx) => {
    unwrap(await submissionSeenBy(ctx.db, params.submissionId, ctx.caller));
    const instanceId = gradingInstanceId(params.submissionId);
    const status = await df.getClient(ctx.invocation).getStatus(instanceId).catch(() => undefined);
    return {
      status: 200,
      body: {
        instanceId,
        runtimeStatus: status?.runtimeStatus ?? null,
        customStatus: customStatusOf(status?.customStatus, ctx),
        createdTime: status?.createdTime ? new Date(status.createdTime).toISOString() : null,
        lastUpdatedTime: status?.lastUpdatedTime ? new Date(status.lastUpdatedTime).toISOString() : null,
      },
      headers: { "cache-control": "no-store" },
    };
  },
});

const stepSchema = z.object({ step: z.enum(["raw", "late", "policy", "contribution"]), attemptId: z.string().optional(), detail: z.string(), value: z.number().nullable() });

route({
  name: "grades-explanation-get",
  method: "GET",
  path: "/v1/grades/{gradeId}/explanation",
  access: anyOf(owner(gradeOwner), courseStaff(["instructor", "grader"], gradeCourse)),
  summary: "How a grade came about: raw score → late deduction → attempts policy → course contribution",
  description: "Each item's score; an item scored by rubric carries `rubric`: every criterion with its level (or free points) and the grader's comment.",
  tags: ["grading"],
  params: z.object({ gradeId: z.uuid() }),
  responses: {
    200: {
      description: "The explanation",
      body: z.object({ gradeId: z.uuid(), submissionId: z.uuid(), version: z.number().int(), keyVersion: z.number().int(), percent: z.number().nullable(), items: z.array(itemScoreSchema), steps: z.array(stepSchema) }),
    },
    404: { description: "`GRADE_NOT_FOUND`" },
  },
  handler: async ({ params }, ctx) => {
    const g = unwrap(await gradeSeenBy(ctx.db, params.gradeId, { userId: ctx.caller.userId, isAdmin: ctx.caller.isAdmin }));
    return {
      status: 200,
      body: {
        gradeId: g.id,
        submissionId: g.submissionId,
        version: g.version,
        keyVersion: g.keyVersion,
        percent: g.percent,
        items: g.itemScores,
        steps: g.explanation.map((s) => ({ ...s, value: Number.isFinite(s.value) ? s.value : null })),
      },
    };
  },
});
