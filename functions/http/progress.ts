import { z } from "zod";
import { computeProgress, roster, rosterSeenBy, updateProgress } from "../../domain/progress/course-progress.js";
import { courseMember, courseStaff } from "../platform/http/access.js";
import { decodeCursor, nextLink, pageQuery, paginate } from "../platform/http/pagination.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";

const progressSchema = z
  .object({
    courseId: z.uuid(),
    userId: z.uuid(),
    percent: z.number(),
    requiredLessons: z.object({ total: z.number().int(), done: z.array(z.uuid()) }),
    requiredAssessments: z.object({ total: z.number().int(), passed: z.array(z.uuid()), passPercent: z.number() }),
    attendance: z
      .object({ minRatePercent: z.number(), ratePercent: z.number().nullable(), met: z.boolean() })
      .nullable()
      .meta({ description: "When the course needs a minimum attendance rate to complete: the learner's rate and whether it is met" }),
    complete: z.boolean(),
    completedAt: z.iso.datetime().nullable(),
    next: z.object({ lessonId: z.uuid(), title: z.string() }).nullable(),
  })
  .meta({ id: "Progress" });

route({
  name: "progress-get",
  method: "GET",
  path: "/v1/courses/{courseId}/progress",
  access: courseMember(),
  summary: "Progress: for a learner their own (percent, what is done, what is next); for staff the roster",
  tags: ["progress"],
  params: z.object({ courseId: z.uuid() }),
  query: z.object({ ...pageQuery, section: z.uuid().optional().meta({ description: "Staff: only learners of this section (a grader scoped to sections gets theirs by default)" }) }),
  responses: {
    200: {
      description: "Learners get `Progress`; staff get a page of `{ userId, percent, completedAt }`",
      body: z.union([progressSchema, z.object({ items: z.array(z.object({ userId: z.uuid(), percent: z.number(), completedAt: z.iso.datetime().nullable() })), nextCursor: z.string().nullable() })]),
    },
    403: { description: "`SECTION_OUT_OF_SCOPE`" },
    404: { description: "`COURSE_NOT_FOUND`, `SECTION_NOT_FOUND`" },
  },
  handler: async ({ params, query, request }, ctx) => {
    const staff = ctx.caller.isAdmin || (await ctx.caller.roleIn(params.courseId)) !== null;
    if (staff) {
      const after = decodeCursor(query.cursor, 1)?.[0];
      const rows = unwrap(
        await rosterSeenBy(ctx.db, params.courseId, ctx.caller, {
          limit: query.limit,
          ...(typeof after === "string" ? { afterUserId: after } : {}),
          ...(query.section ? { section: query.section } : {}),
        }),
      );
      const page = paginate(rows, query.limit, (r) => [r.userId]);
      return {
        status: 200,
        body: { items: page.items.map((r) => ({ userId: r.userId, percent: Number(r.percent), completedAt: r.completedAt?.toISOString() ?? null })), nextCursor: page.nextCursor },
        headers: nextLink(request.url, page.nextCursor),
      };
    }
    const view = await computeProgress(ctx.db, params.courseId, ctx.caller.userId, ctx.now());
    if (!view) throw new ProblemError("COURSE_NOT_FOUND");
    return { status: 200, body: { ...view, completedAt: view.completedAt?.toISOString() ?? null }, headers: { "cache-control": "private, no-cache" } };
  },
});

route({
  name: "progress-recompute",
  method: "POST",
  path: "/v1/courses/{courseId}/progress/recompute",
  access: courseStaff(["instructor"]),
  summary: "Rebuild progress from the record (completions and grades) for one learner or every active learner",
  description: "Gives the same result however often it runs; a first-time completion found here writes course.completed once.",
  tags: ["progress"],
  params: z.object({ courseId: z.uuid() }),
  body: z.object({ userId: z.uuid().optional() }).optional(),
  responses: { 200: { description: "Recomputed", body: z.object({ items: z.array(z.object({ userId: z.uuid(), percent: z.number(), complete: z.boolean() })) }) } },
  handler: async ({ params, body }, ctx) => {
    const learners = body?.userId
      ? [body.userId]
      : (await roster(ctx.db, params.courseId, { limit: 100_000 })).map((r) => r.userId);
    const items = [];
    for (const userId of learners) {
      const view = await ctx.transaction((tx) => updateProgress(ctx.domain(tx), params.courseId, userId));
      if (view) items.push({ userId, percent: view.percent, complete: view.complete });
    }
    return { status: 200, body: { items } };
  },
});
