import { z } from "zod";
import { gradebookCsv, gradebookSeenBy, wholeGradebookSeenBy } from "../../domain/grading/gradebook.js";
import { setCategories, setExcused } from "../../domain/grading/manage-gradebook.js";
import { courseStaff } from "../platform/http/access.js";
import { decodeCursor, nextLink, pageQuery, paginate } from "../platform/http/pagination.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { courseGradeSchema } from "./schemas/grade.js";
import { assessmentCourse } from "./locators.js";

const courseParams = z.object({ courseId: z.uuid() });
const categorySchema = z.object({ name: z.string().trim().min(1).max(60), weightPercent: z.number().min(0).max(100), dropLowest: z.number().int().min(0).max(50).default(0) });

route({
  name: "gradebook-get",
  method: "GET",
  path: "/v1/courses/{courseId}/gradebook",
  access: courseStaff(["instructor", "grader"]),
  summary: "The course gradebook: every active learner's results and weighted course grade (JSON, or CSV with format=csv)",
  description:
    "Learners whose account was deactivated stay, with `inactive: true` (an `inactive` column in the CSV). The JSON answer is paged; with format=csv the answer holds every learner in one file (the cursor is ignored and limit only sets how many learners are read at a time), so an export is never cut short.",
  tags: ["grading"],
  params: courseParams,
  query: z.object({ ...pageQuery, format: z.enum(["json", "csv"]).default("json"), section: z.uuid().optional().meta({ description: "Only learners of this section (a grader scoped to sections gets theirs by default)" }) }),
  responses: {
    200: {
      description: "A page of the gradebook",
      body: z.object({
        assessments: z.array(z.object({ id: z.uuid(), title: z.string(), category: z.string() })),
        attendanceCategory: z.string().nullable().meta({ description: "The category the attendance rate counts in (the course's attendance policy), or null" }),
        items: z.array(z.object({ userId: z.uuid(), displayName: z.string(), email: z.string(), inactive: z.boolean().meta({ description: "The account is deactivated" }), results: z.record(z.string(), z.union([z.number(), z.null(), z.literal("excused")])), attendancePercent: z.number().nullable().optional().meta({ description: "The attendance rate counted as a result, when attendance is graded" }), course: courseGradeSchema })),
        nextCursor: z.string().nullable(),
      }),
      otherContent: { "text/csv": z.string().meta({ description: "With format=csv: one row per learner" }) },
    },
    403: { description: "`SECTION_OUT_OF_SCOPE`" },
    404: { description: "`SECTION_NOT_FOUND`" },
  },
  handler: async ({ params, query, request }, ctx) => {
    if (query.format === "csv") {
      const book = unwrap(await wholeGradebookSeenBy(ctx.db, params.courseId, ctx.caller, { chunk: query.limit, asOf: ctx.now(), ...(query.section ? { section: query.section } : {}) }));
      return {
        raw: {
          status: 200,
          headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="gradebook-${params.courseId}.csv"` },
          body: gradebookCsv(book),
        },
      };
    }
    const after = decodeCursor(query.cursor, 1)?.[0];
    const book = unwrap(
      await gradebookSeenBy(ctx.db, params.courseId, ctx.caller, {
        limit: query.limit,
        asOf: ctx.now(),
        ...(typeof after === "string" ? { afterUserId: after } : {}),
        ...(query.section ? { section: query.section } : {}),
      }),
    );
    const page = paginate(book.rows, query.limit, (r) => [r.userId]);
    const link = nextLink(request.url, page.nextCursor);
    return { status: 200, body: { assessments: book.assessments, attendanceCategory: book.attendanceCategory, items: page.items, nextCursor: page.nextCursor }, headers: link };
  },
});

route({
  name: "grade-categories-set",
  method: "PUT",
  path: "/v1/courses/{courseId}/grade-categories",
  access: courseStaff(["instructor"]),
  summary: "Set the course's grade categories: weights (at most 100% in all) and lowest scores dropped",
  tags: ["grading"],
  params: courseParams,
  body: z.object({ categories: z.array(categorySchema).max(20) }),
  responses: { 200: { description: "The categories", body: z.object({ categories: z.array(categorySchema) }) }, 422: { description: "`INVALID_ASSESSMENT_SETTINGS`" } },
  handler: async ({ params, body }, ctx) => {
    const categories = unwrap(await ctx.transaction((tx) => setCategories(ctx.domain(tx), params.courseId, body.categories)));
    return { status: 200, body: { categories } };
  },
});

route({
  name: "grade-excusals-set",
  method: "POST",
  path: "/v1/assessments/{assessmentId}/excusals",
  access: courseStaff(["instructor"], assessmentCourse),
  summary: "Excuse a learner from an assessment (or take it back with excused=false)",
  tags: ["grading"],
  params: z.object({ assessmentId: z.uuid() }),
  body: z.object({ userId: z.uuid(), excused: z.boolean().default(true), reason: z.string().max(500).default("") }),
  responses: { 204: { description: "Done" }, 404: { description: "`ASSESSMENT_NOT_FOUND`" } },
  handler: async ({ params, body }, ctx) => {
    unwrap(await ctx.transaction((tx) => setExcused(ctx.domain(tx), { assessmentId: params.assessmentId, ...body })));
    return { status: 204 };
  },
});
