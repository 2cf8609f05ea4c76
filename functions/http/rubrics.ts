import { z } from "zod";
import { attachRubrics } from "../../domain/rubrics/attach-rubrics.js";
import { changeRubric, rubricChangeDryRun } from "../../domain/rubrics/change-rubric.js";
import { createRubric, deleteRubric, listRubrics, type RubricRow, rubricById, rubricCourse } from "../../domain/rubrics/manage-rubrics.js";
import { courseStaff, type Locator } from "../platform/http/access.js";
import { notModified, versionFromIfMatch } from "../platform/http/etag.js";
import { decodeCursorAs, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { assessmentCourse } from "./locators.js";
import { rubricAttachmentsSchema, rubricInputSchema, rubricSchema } from "./schemas/rubric.js";

const rubricParams = z.object({ rubricId: z.uuid() });
const rubricOf: Locator = { describe: "the rubric's course", resolve: async (params, db) => rubricCourse(db, params.rubricId as string) };

const rubricBody = (r: RubricRow): z.input<typeof rubricSchema> => ({
  id: r.id,
  courseId: r.courseId,
  title: r.title,
  criteria: r.criteria,
  version: r.version,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});
const rubricEtag = (r: { version: number }) => `"r${r.version}"`;
const rubricEtagPattern = /^"r(\d+)"$/;

const criteriaDescription =
  "1–30 criteria with unique ids: `levels` (2–10 levels with ids unique in the criterion, listed from the most points to the fewest, strictly: else 422 `RUBRIC_LEVELS_UNORDERED` naming the criteria) or `free-points` (a grader gives 0..`maxPoints`).";

const dryRunSchema = z.object({
  dryRun: z.literal(true),
  truncated: z.boolean().meta({ description: "More than 500 submissions were scored with the rubric: the lists hold the first 500 (by assessment, then submission)" }),
  assessments: z.array(
    z.object({
      assessmentId: z.uuid(),
      submissions: z.array(
        z.object({
          submissionId: z.uuid(),
          userId: z.uuid(),
          before: z.number().nullable().meta({ description: "The percent with the rubric as it is" }),
          after: z.number().nullable().meta({ description: "The percent with the proposed rubric" }),
        }),
      ),
    }),
  ),
});

route({
  name: "rubrics-create",
  method: "POST",
  path: "/v1/courses/{courseId}/rubrics",
  access: courseStaff(["instructor"]),
  summary: "Write a rubric for the course: criteria × levels with points, or free points",
  description: criteriaDescription,
  tags: ["rubrics"],
  idempotent: true,
  params: z.object({ courseId: z.uuid() }),
  body: rubricInputSchema,
  responses: { 201: { description: "Created", body: rubricSchema }, 422: { description: "`INVALID_RUBRIC`, `RUBRIC_LEVELS_UNORDERED`" } },
  handler: async ({ params, body }, ctx) => {
    const rubric = unwrap(await ctx.transaction((tx) => createRubric(ctx.domain(tx), params.courseId, body)));
    return { status: 201, body: rubricBody(rubric), headers: { location: `/api/v1/rubrics/${rubric.id}`, etag: rubricEtag(rubric) } };
  },
});

route({
  name: "rubrics-list",
  method: "GET",
  path: "/v1/courses/{courseId}/rubrics",
  access: courseStaff(["instructor", "grader"]),
  summary: "The course's rubrics, newest first",
  tags: ["rubrics"],
  params: z.object({ courseId: z.uuid() }),
  query: z.object(pageQuery),
  responses: { 200: { description: "A page of rubrics", body: pageOf(rubricSchema) }, 400: { description: "`INVALID_CURSOR`" } },
  handler: async ({ params, query, request }, ctx) => {
    const after = decodeCursorAs(query.cursor, z.tuple([z.uuid()]));
    const rows = await listRubrics(ctx.db, params.courseId, { limit: query.limit, ...(after ? { beforeId: after[0] } : {}) });
    const page = paginate(rows, query.limit, (r) => [r.id]);
    return { status: 200, body: { items: page.items.map(rubricBody), nextCursor: page.nextCursor }, headers: nextLink(request.url, page.nextCursor) };
  },
});

route({
  name: "rubrics-get",
  method: "GET",
  path: "/v1/rubrics/{rubricId}",
  access: courseStaff(["instructor", "grader"], rubricOf),
  summary: "One rubric (its ETag is its version)",
  tags: ["rubrics"],
  conditional: "read",
  params: rubricParams,
  responses: { 200: { description: "The rubric", body: rubricSchema }, 404: { description: "`RUBRIC_NOT_FOUND`" } },
  handler: async ({ params, request }, ctx) => {
    const rubric = unwrap(await rubricById(ctx.db, params.rubricId));
    const etag = rubricEtag(rubric);
    if (notModified(request, etag)) return { status: 304, headers: { etag } };
    return { status: 200, body: rubricBody(rubric), headers: { etag } };
  },
});

route({
  name: "rubrics-update",
  method: "PUT",
  path: "/v1/rubrics/{rubricId}",
  access: courseStaff(["instructor"], rubricOf),
  summary: "Change a rubric; `dryRun=true` answers what it would do to scored submissions and changes nothing",
  description: `${criteriaDescription} Send the ETag you read as If-Match (428 without it, 412 when it changed meanwhile; a dry run needs none). A rubric that scored submissions may change titles, descriptions and level points, raise free maxima and add levels; removing a chosen criterion or level, lowering a free maximum below a stored choice or adding a criterion is refused (409 \`RUBRIC_LEVELS_IN_USE\` lists them as \`inUse\`, the dry run too). Each assessment with submissions scored by the rubric takes a new key version, so its graded submissions are regraded with the new rubric (a new grade version each, as an answer-key change does); the dry run answers, per such assessment, each scored submission's percent now and after (at most 500 submissions graded: \`truncated\` says when there were more).`,
  tags: ["rubrics"],
  conditional: "update",
  params: rubricParams,
  query: z.object({ dryRun: z.enum(["true", "false"]).default("false").transform((v) => v === "true") }),
  body: rubricInputSchema,
  responses: {
    200: { description: "The changed rubric; or, with dryRun, the differences", body: z.union([rubricSchema, dryRunSchema]) },
    404: { description: "`RUBRIC_NOT_FOUND`" },
    409: { description: "`RUBRIC_LEVELS_IN_USE`" },
    422: { description: "`INVALID_RUBRIC`, `RUBRIC_LEVELS_UNORDERED`" },
    428: { description: "`PRECONDITION_REQUIRED`: send If-Match" },
  },
  handler: async ({ params, query, body, request }, ctx) => {
    if (query.dryRun) return { status: 200, body: { dryRun: true as const, ...unwrap(await rubricChangeDryRun(ctx.db, params.rubricId, body)) } };
    const version = versionFromIfMatch(request.headers.get("if-match"), rubricEtagPattern);
    if (version === undefined) throw new ProblemError("PRECONDITION_REQUIRED", { detail: "Read the rubric and send its ETag as If-Match." });
    const { rubric } = unwrap(await ctx.transaction((tx) => changeRubric(ctx.domain(tx), params.rubricId, body, version)));
    return { status: 200, body: rubricBody(rubric), headers: { etag: rubricEtag(rubric) } };
  },
});

route({
  name: "rubrics-delete",
  method: "DELETE",
  path: "/v1/rubrics/{rubricId}",
  access: courseStaff(["instructor"], rubricOf),
  summary: "Delete a rubric no assessment uses",
  tags: ["rubrics"],
  params: rubricParams,
  responses: { 204: { description: "Deleted" }, 404: { description: "`RUBRIC_NOT_FOUND`" }, 409: { description: "`RUBRIC_IN_USE`: detach it first" } },
  handler: async ({ params }, ctx) => {
    unwrap(await ctx.transaction((tx) => deleteRubric(ctx.domain(tx), params.rubricId)));
    return { status: 204 };
  },
});

route({
  name: "assessments-rubrics-put",
  method: "PUT",
  path: "/v1/assessments/{assessmentId}/rubrics",
  access: courseStaff(["instructor"], assessmentCourse),
  summary: "Attach the course's rubrics to the assessment's essay/file items, and to the whole assessment",
  description:
    "`items` maps an essay or file item to the rubric scoring it: a fixed item of the assessment by its id, or an essay/file bank item of a bank the assessment's pools draw from by its bank item id (drawn items are presented under it); `whole` scores every manual item without its own rubric (drawn items too). Replacing or removing a rubric that scored submissions of this assessment is refused (409 `RUBRIC_IN_USE`).",
  tags: ["rubrics"],
  params: z.object({ assessmentId: z.uuid() }),
  body: rubricAttachmentsSchema,
  responses: {
    200: { description: "The attachments", body: rubricAttachmentsSchema },
    404: { description: "`ASSESSMENT_NOT_FOUND`, `RUBRIC_NOT_FOUND` (not a rubric of the course)" },
    409: { description: "`RUBRIC_IN_USE`" },
    422: { description: "`INVALID_ASSESSMENT_SETTINGS`: not an essay or file item of the assessment or of a bank its pools draw from" },
  },
  handler: async ({ params, body }, ctx) => {
    const attachments = unwrap(await ctx.transaction((tx) => attachRubrics(ctx.domain(tx), params.assessmentId, body)));
    return { status: 200, body: attachments };
  },
});
