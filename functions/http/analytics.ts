import { z } from "zod";
import { analyticsSeenBy } from "../../domain/analytics/analytics-seen-by.js";
import { barChart, lineChart } from "../../domain/analytics/charts.js";
import type { CourseAnalytics } from "../../domain/analytics/figures.js";
import { addDays, datesBetween, dayOf } from "../../domain/analytics/store.js";
import { courseStaff } from "../platform/http/access.js";
import { ProblemError, unwrap } from "../platform/http/problem.js";
import { type CallerRouteContext, route } from "../platform/http/route.js";

const MAX_DAYS = 366;
const charts = ["active-learners", "enrollments", "drop-off", "grades"] as const;

const rangeQuery = z
  .object({
    from: z.iso.date().optional().meta({ description: "First day (UTC), default 29 days before `to`" }),
    to: z.iso.date().optional().meta({ description: "Last day (UTC), default today" }),
    section: z.uuid().optional().meta({ description: "Only learners placed in this section (a grader scoped to sections gets theirs by default)" }),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { path: ["from"], message: "must not be after `to`" });

const gradeSummarySchema = z.object({
  graded: z.number().int(),
  mean: z.number().nullable(),
  median: z.number().nullable(),
  passRate: z.number().nullable(),
  buckets: z.array(z.object({ from: z.number(), to: z.number(), count: z.number().int() })),
});

const analyticsSchema = z
  .object({
    courseId: z.uuid(),
    from: z.iso.date(),
    to: z.iso.date(),
    generatedAt: z.iso.datetime(),
    summary: z.object({ enrolled: z.number().int(), everEnrolled: z.number().int(), dropped: z.number().int(), completed: z.number().int(), completionRate: z.number(), averageProgress: z.number() }),
    activeLearners: z.array(z.object({ date: z.iso.date(), count: z.number().int(), source: z.enum(["rollup", "live"]) })),
    enrollments: z.array(z.object({ date: z.iso.date(), enrolled: z.number().int(), dropped: z.number().int(), completed: z.number().int(), total: z.number().int() })),
    dropOff: z.array(
      z.object({ lessonId: z.uuid(), title: z.string(), moduleTitle: z.string(), required: z.boolean(), completed: z.number().int(), completionRate: z.number(), dropOffRate: z.number(), stalledHere: z.number().int() }),
    ),
    grades: z.object({ passPercent: z.number(), overall: gradeSummarySchema, assessments: z.array(gradeSummarySchema.extend({ assessmentId: z.uuid(), title: z.string() })) }),
    charts: z.record(z.enum(charts), z.string()).meta({ description: "SVG renderings of the same figures" }),
  })
  .meta({ id: "CourseAnalytics" });

/** The figures for the requested range (see analyticsSeenBy); the range is checked here, as input. */
async function figuresFor(ctx: CallerRouteContext, courseId: string, q: { from?: string | undefined; to?: string | undefined; section?: string | undefined }): Promise<CourseAnalytics> {
  const now = ctx.now();
  const today = dayOf(now);
  const to = q.to && q.to < today ? q.to : today;
  const from = q.from ?? addDays(to, -29);
  if (from > to) throw new ProblemError("VALIDATION_FAILED", { detail: "`from` is after today.", errors: [{ path: "query.from", message: "must not be in the future" }] });
  if (datesBetween(from, to).length > MAX_DAYS) throw new ProblemError("VALIDATION_FAILED", { detail: `At most ${MAX_DAYS} days at a time.`, errors: [{ path: "query.from", message: `the range may span at most ${MAX_DAYS} days` }] });
  return unwrap(await analyticsSeenBy(ctx.db, ctx.platform.analytics, courseId, ctx.caller, { from, to, section: q.section, now }));
}

route({
  name: "course-analytics-get",
  method: "GET",
  path: "/v1/courses/{courseId}/analytics",
  access: courseStaff(["instructor", "grader"]),
  summary: "Course analytics: active learners per day, enrollment trend, completion rate, average progress, drop-off per lesson, grade distribution",
  description:
    "From the read models the `activity` subscription keeps in Cosmos DB; days the nightly rollup has not covered yet (today) are counted live. Each chart is also offered as SVG (`charts`).",
  tags: ["progress"],
  params: z.object({ courseId: z.uuid() }),
  query: rangeQuery,
  responses: { 200: { description: "The course's figures", body: analyticsSchema }, 403: { description: "`SECTION_OUT_OF_SCOPE`" }, 404: { description: "`COURSE_NOT_FOUND`, `SECTION_NOT_FOUND`" } },
  handler: async ({ params, query, request }, ctx) => {
    const figures = await figuresFor(ctx, params.courseId, query);
    // Paths, not absolute URLs (as the Link header's next page): the host this request arrived on is not
    // necessarily the one its caller sees.
    const base = `${new URL(request.url).pathname.replace(/\/+$/, "")}/charts/`;
    const range = `?from=${figures.from}&to=${figures.to}`;
    const links = Object.fromEntries(charts.map((c) => [c, `${base}${c}${range}`]));
    return { status: 200, body: { ...figures, charts: links }, headers: { "cache-control": "private, max-age=60" } };
  },
});

route({
  name: "course-analytics-chart",
  method: "GET",
  path: "/v1/courses/{courseId}/analytics/charts/{chart}",
  access: courseStaff(["instructor", "grader"]),
  summary: "One analytics chart as SVG",
  tags: ["progress"],
  params: z.object({ courseId: z.uuid(), chart: z.enum(charts) }),
  query: rangeQuery.safeExtend({ assessmentId: z.uuid().optional().meta({ description: "grades: one assessment instead of all" }) }),
  responses: { 200: { description: "An SVG image", contentType: "image/svg+xml", body: z.string() }, 403: { description: "`SECTION_OUT_OF_SCOPE`" }, 404: { description: "`COURSE_NOT_FOUND`, `ASSESSMENT_NOT_FOUND`, `SECTION_NOT_FOUND`" } },
  handler: async ({ params, query }, ctx) => {
    const f = await figuresFor(ctx, params.courseId, query);
    let svg: string;
    switch (params.chart) {
      case "active-learners":
        svg = lineChart(`Active learners per day, ${f.from} to ${f.to}`, f.activeLearners.map((d) => ({ label: d.date, value: d.count })));
        break;
      case "enrollments":
        svg = lineChart(`Enrolled learners, ${f.from} to ${f.to}`, f.enrollments.map((d) => ({ label: d.date, value: d.total })));
        break;
      case "drop-off":
        svg = barChart("Learners who completed each lesson", f.dropOff.map((l) => ({ label: l.title, value: l.completed })));
        break;
      case "grades": {
        const one = query.assessmentId ? f.grades.assessments.find((a) => a.assessmentId === query.assessmentId) : undefined;
        if (query.assessmentId && !one) throw new ProblemError("ASSESSMENT_NOT_FOUND");
        svg = barChart(one ? `Grade distribution: ${one.title}` : "Grade distribution, all assessments", (one ?? f.grades.overall).buckets.map((b) => ({ label: `${b.from}–${b.to}`, value: b.count })));
        break;
      }
    }
    return { raw: { status: 200, headers: { "content-type": "image/svg+xml; charset=utf-8", "cache-control": "private, max-age=60", "x-content-type-options": "nosniff", "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'" }, body: svg } };
  },
});
