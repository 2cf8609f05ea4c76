import { z } from "zod";
import { assessmentKinds } from "../../domain/db/schema/index.js";
import { learnerGrades } from "../../domain/grading/learner-grades.js";
import { learnerSubmissions } from "../../domain/grading/learner-submissions.js";
import { authenticated } from "../platform/http/access.js";
import { decodeCursor, nextLink, pageOf, pageQuery, paginate } from "../platform/http/pagination.js";
import { route } from "../platform/http/route.js";
import { isoOrNull } from "./schemas/dates.js";
import { courseGradeSchema } from "./schemas/grade.js";

const iso = z.iso.datetime();
const explanationLink = (gradeId: string) => `/api/v1/grades/${gradeId}/explanation`;
const explanation = z.string().meta({ description: "`GET` it for how the grade came about" });
const listProblems = {
  400: { description: "A query parameter or the cursor is not valid (`VALIDATION_FAILED`, `INVALID_CURSOR`)" },
  401: { description: "No valid access token (`UNAUTHENTICATED`)" },
};

const learnerGradeSchema = z.object({
  id: z.uuid(),
  assessment: z.object({ id: z.uuid(), title: z.string(), kind: z.enum(assessmentKinds), category: z.string() }),
  submissionId: z.uuid(),
  attemptNumber: z.number().int(),
  percent: z.number().nullable(),
  version: z.number().int().meta({ description: "Regrades add versions; this is the newest" }),
  keyVersion: z.number().int(),
  excused: z.boolean().meta({ description: "Excused grades do not count toward the course grade" }),
  gradedAt: iso,
  releasedAt: iso.meta({ description: "When you could first see it: when graded, or when staff released the results if later" }),
  explanation,
});

route({
  name: "me-grades-list",
  method: "GET",
  path: "/v1/me/grades",
  access: authenticated,
  summary: "Your released grades per course, with the course grade",
  description:
    "Per course, for each assessment the grade that counts (the newest), and the course grade over released results only. " +
    "Results an instructor has not released yet are left out. Courses in a stable order, paged.",
  tags: ["me"],
  query: z.object({ ...pageQuery, courseId: z.uuid().optional().meta({ description: "Only this course" }) }),
  responses: {
    200: {
      description: "A page of courses with your grades",
      body: pageOf(z.object({ courseId: z.uuid(), courseTitle: z.string(), courseGrade: courseGradeSchema, grades: z.array(learnerGradeSchema) })),
    },
    ...listProblems,
  },
  handler: async ({ query, request }, ctx) => {
    const after = decodeCursor(query.cursor, 1)?.[0];
    const rows = await learnerGrades(ctx.db, ctx.caller.userId, {
      limit: query.limit,
      asOf: ctx.now(),
      ...(query.courseId ? { courseIds: [query.courseId] } : {}),
      ...(typeof after === "string" ? { afterCourseId: after } : {}),
    });
    const page = paginate(rows, query.limit, (c) => [c.courseId]);
    const items = page.items.map((c) => ({
      ...c,
      grades: c.grades.map((g) => ({ ...g, gradedAt: g.gradedAt.toISOString(), releasedAt: g.releasedAt.toISOString(), explanation: explanationLink(g.id) })),
    }));
    return { status: 200, body: { items, nextCursor: page.nextCursor }, headers: { ...nextLink(request.url, page.nextCursor), "cache-control": "private, no-store" } };
  },
});

route({
  name: "me-submissions-list",
  method: "GET",
  path: "/v1/me/submissions",
  access: authenticated,
  summary: "Your attempts and submissions across courses, newest first",
  description: "A submission carries its grade (id, percent and explanation link) once it is graded and its results are released; before that, `grade` is null.",
  tags: ["me"],
  query: z.object({
    ...pageQuery,
    courseId: z.uuid().optional(),
    assessmentId: z.uuid().optional(),
    status: z.enum(["in-progress", "submitted"]).optional(),
  }),
  responses: {
    200: {
      description: "A page of attempts",
      body: pageOf(
        z.object({
          id: z.uuid().meta({ description: "The attempt; once submitted, also the submission id" }),
          courseId: z.uuid(),
          assessment: z.object({ id: z.uuid(), title: z.string(), kind: z.enum(assessmentKinds) }),
          number: z.number().int(),
          status: z.enum(["in-progress", "submitted"]),
          startedAt: iso,
          deadlineAt: iso.nullable(),
          submittedAt: iso.nullable(),
          submittedBy: z.enum(["learner", "deadline"]).nullable(),
          grade: z.object({ id: z.uuid(), version: z.number().int(), percent: z.number().nullable(), gradedAt: iso, explanation }).nullable(),
        }),
      ),
    },
    ...listProblems,
  },
  handler: async ({ query, request }, ctx) => {
    const before = decodeCursor(query.cursor, 1)?.[0];
    const rows = await learnerSubmissions(ctx.db, ctx.caller.userId, {
      limit: query.limit,
      ...(query.courseId ? { courseId: query.courseId } : {}),
      ...(query.assessmentId ? { assessmentId: query.assessmentId } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(typeof before === "string" ? { beforeId: before } : {}),
    });
    const page = paginate(rows, query.limit, (s) => [s.id]);
    const items = page.items.map((s) => ({
      ...s,
      startedAt: s.startedAt.toISOString(),
      deadlineAt: isoOrNull(s.deadlineAt),
      submittedAt: isoOrNull(s.submittedAt),
      grade: s.grade && { ...s.grade, gradedAt: s.grade.gradedAt.toISOString(), explanation: explanationLink(s.grade.id) },
    }));
    return { status: 200, body: { items, nextCursor: page.nextCursor }, headers: { ...nextLink(request.url, page.nextCursor), "cache-control": "private, no-store" } };
  },
});
