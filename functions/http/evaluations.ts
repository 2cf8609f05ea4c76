import { z } from "zod";
import { type CourseEvaluation, courseEvaluationsSeenBy, evaluationCourse, scheduleEvaluation } from "../../domain/evaluations/course-evaluations.js";
import { respondToEvaluation } from "../../domain/evaluations/respond.js";
import { evaluationResults, evaluationResultsCsv } from "../../domain/evaluations/results.js";
import { courseMember, courseStaff, type Locator } from "../platform/http/access.js";
import { unwrap } from "../platform/http/problem.js";
import { route } from "../platform/http/route.js";
import { isoOrNull } from "./schemas/dates.js";
import { evaluationSchema, questionSummarySchema } from "./schemas/evaluation.js";
import { wantsCsv } from "./schemas/csv.js";

const iso = z.iso.datetime();
const courseParams = z.object({ courseId: z.uuid() });
const evaluationParams = z.object({ evaluationId: z.uuid() });
const courseOfTheEvaluation: Locator = { describe: "the evaluation's course", resolve: (params, db) => evaluationCourse(db, params.evaluationId as string) };

const evaluationBody = (e: CourseEvaluation, answered: boolean | null): z.input<typeof evaluationSchema> => ({
  id: e.id,
  courseId: e.courseId,
  templateId: e.templateId,
  term: e.term,
  status: e.status,
  opensAt: e.opensAt.toISOString(),
  closesAt: e.closesAt.toISOString(),
  openedAt: isoOrNull(e.openedAt),
  remindedAt: isoOrNull(e.remindedAt),
  closedAt: isoOrNull(e.closedAt),
  questions: e.questions,
  responseCount: answered === null ? e.responseCount : null,
  answered,
});

// Opening an evaluation for a course is the course's instructors' call (and administrators'); the templates are the
// administrators'. Instructors choose the term and the dates that fit their course.
route({
  name: "course-evaluations-create",
  method: "POST",
  path: "/v1/courses/{courseId}/evaluations",
  access: courseStaff(["instructor"]),
  summary: "Schedule a course evaluation from a template (the course's instructors not scoped to sections, and administrators)",
  description:
    "The template's questions are copied. The evaluations timer opens it at `opensAt` (telling the course's active learners) and closes it at `closesAt` (after opensAt, in the future, at most a year later), reminding those who have not answered once EVALUATION_REMINDER_HOURS before (when it was open before then: a shorter window, or one opened late, gets no reminder).",
  tags: ["evaluations"],
  params: courseParams,
  body: z.object({
    templateId: z.uuid(),
    term: z.string().trim().min(1).max(100).meta({ description: "What results compare by, e.g. \"2026 autumn\"" }),
    opensAt: iso,
    closesAt: iso,
  }),
  responses: {
    201: { description: "Scheduled", body: evaluationSchema },
    403: { description: "`SECTION_OUT_OF_SCOPE`: instructors scoped to sections do not schedule course-wide evaluations" },
    404: { description: "`COURSE_NOT_FOUND`, `EVALUATION_TEMPLATE_NOT_FOUND`" },
    409: { description: "`EVALUATION_TEMPLATE_ARCHIVED`" },
    422: { description: "`EVALUATION_WINDOW_INVALID`" },
  },
  handler: async ({ params, body }, ctx) => {
    const evaluation = unwrap(
      await ctx.transaction((tx) =>
        scheduleEvaluation(ctx.domain(tx), { courseId: params.courseId, templateId: body.templateId, term: body.term, opensAt: new Date(body.opensAt), closesAt: new Date(body.closesAt) }, ctx.caller),
      ),
    );
    return { status: 201, body: evaluationBody(evaluation, null), headers: { location: `/api/v1/courses/${params.courseId}/evaluations` } };
  },
});

route({
  name: "course-evaluations-list",
  method: "GET",
  path: "/v1/courses/{courseId}/evaluations",
  access: courseMember(),
  summary: "A course's evaluations: staff all of them with their response counts; learners the open ones, each with whether they answered",
  tags: ["evaluations"],
  params: courseParams,
  responses: { 200: { description: "By opening time (at most 500)", body: z.object({ items: z.array(evaluationSchema) }) } },
  handler: async ({ params }, ctx) => {
    const viewer = { userId: ctx.caller.userId, isAdmin: ctx.caller.isAdmin, role: await ctx.caller.roleIn(params.courseId) };
    const rows = await courseEvaluationsSeenBy(ctx.db, params.courseId, viewer, ctx.platform.settings.EVALUATION_RECEIPT_KEY);
    return { status: 200, body: { items: rows.map((r) => evaluationBody(r.evaluation, r.answered)) }, headers: { "cache-control": "private, no-store" } };
  },
});

route({
  name: "evaluation-responses-create",
  method: "POST",
  path: "/v1/evaluations/{evaluationId}/responses",
  access: courseMember(courseOfTheEvaluation),
  summary: "Answer an open evaluation, anonymously (the course's active learners, once)",
  description:
    "`answers` maps question ids to answers: likert a whole number 1..n, choice one of the options (its text), text up to 5,000 characters; required questions must be answered, unknown ids are refused (422 `EVALUATION_ANSWERS_INVALID` with `issues`). The response is stored without your identity or a time; a separate receipt (a keyed hash) records only that you answered, so a second answer is 409 `EVALUATION_ALREADY_ANSWERED`.",
  tags: ["evaluations"],
  params: evaluationParams,
  body: z.object({ answers: z.record(z.string().max(100), z.union([z.string().max(20_000), z.number(), z.null()])).refine((a) => Object.keys(a).length <= 100, "at most 100 answers") }),
  responses: {
    204: { description: "Answered" },
    403: { description: "`EVALUATION_NOT_LEARNER`: staff do not answer" },
    404: { description: "`EVALUATION_NOT_FOUND`" },
    409: { description: "`EVALUATION_NOT_OPEN`, `EVALUATION_ALREADY_ANSWERED`" },
    422: { description: "`EVALUATION_ANSWERS_INVALID`" },
  },
  handler: async ({ params, body }, ctx) => {
    unwrap(await ctx.transaction((tx) => respondToEvaluation(ctx.domain(tx), { evaluationId: params.evaluationId, userId: ctx.caller.userId, answers: body.answers }, ctx.platform.settings.EVALUATION_RECEIPT_KEY)));
    return { status: 204, headers: { "cache-control": "no-store" } };
  },
});

route({
  name: "evaluation-results-get",
  method: "GET",
  path: "/v1/evaluations/{evaluationId}/results",
  access: courseStaff(["instructor"], courseOfTheEvaluation),
  summary: "An evaluation's results (the course's instructors not scoped to sections, and administrators): JSON or CSV",
  description:
    "Only once the evaluation has closed with at least EVALUATION_MIN_RESPONSES answers; else 409 `EVALUATION_RESULTS_WITHHELD` with `reason` (`not-closed`: no figures at all; `too-few-responses`: the count and the minimum, no figures). Per question: likert n, mean, median and distribution; choice counts per option; text the answers in random order. A question fewer than EVALUATION_MIN_RESPONSES answered (an optional one) shows only its n and `withheld: true`. CSV with format=csv or Accept: text/csv.",
  tags: ["evaluations"],
  params: evaluationParams,
  query: z.object({ format: z.enum(["json", "csv"]).optional() }),
  responses: {
    200: {
      description: "The results",
      body: z.object({ evaluationId: z.uuid(), courseId: z.uuid(), courseTitle: z.string(), term: z.string(), closedAt: iso, n: z.number().int(), questions: z.array(questionSummarySchema) }),
      otherContent: { "text/csv": z.string().meta({ description: "One row per question and scale point or option; a text question's answers one per row" }) },
    },
    403: { description: "`SECTION_OUT_OF_SCOPE`: instructors scoped to sections do not read every section's answers" },
    404: { description: "`EVALUATION_NOT_FOUND`" },
    409: { description: "`EVALUATION_RESULTS_WITHHELD`" },
  },
  handler: async ({ params, query, request }, ctx) => {
    const results = unwrap(await evaluationResults(ctx.db, params.evaluationId, ctx.platform.settings.EVALUATION_MIN_RESPONSES, ctx.caller));
    if (wantsCsv(query.format, request)) {
      return {
        raw: {
          status: 200,
          headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="evaluation-${params.evaluationId}.csv"`, "cache-control": "private, no-store" },
          body: evaluationResultsCsv(results),
        },
      };
    }
    const e = results.evaluation;
    return {
      status: 200,
      body: { evaluationId: e.id, courseId: e.courseId, courseTitle: results.courseTitle, term: e.term, closedAt: (e.closedAt as Date).toISOString(), n: e.responseCount, questions: results.questions },
      headers: { "cache-control": "private, no-store", vary: "Accept" },
    };
  },
});
