import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, signUp, type TestUser } from "../../support/identity.js";
import { answersOf, mixedQuizItems, mixedQuizKeys, pureGrade } from "../../support/mixed-quiz.js";
import { recentErrors, waitFor } from "../../support/wait-for.js";

interface GradeItem {
  id: string;
  assessment: { id: string; title: string; kind: string; category: string };
  submissionId: string;
  attemptNumber: number;
  percent: number | null;
  version: number;
  excused: boolean;
  gradedAt: string;
  releasedAt: string;
  explanation: string;
}
interface CourseItem {
  courseId: string;
  courseTitle: string;
  courseGrade: { percent: number | null; categories: { name: string; percent: number | null; counted: string[] }[] };
  grades: GradeItem[];
}
interface SubmissionItem {
  id: string;
  courseId: string;
  assessment: { id: string; title: string; kind: string };
  number: number;
  status: string;
  startedAt: string;
  deadlineAt: string | null;
  submittedAt: string | null;
  submittedBy: string | null;
  grade: { id: string; version: number; percent: number | null; gradedAt: string; explanation: string } | null;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

let db: TestDatabase;
let app: RunningApp;
let instructor: TestUser;
let learner: TestUser;
let other: TestUser;
let newcomer: TestUser;
let physics: string;
let chemistry: string;
let units: string;
let held: string;
let titration: string;
const submissions: Record<string, string> = {};

const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(what, probe, { timeoutMs: 30_000, diagnostics: () => recentErrors(app) });
const gradeOf = async (submissionId: string) => (await db.sql<{ id: string; percent: number }[]>`select id, percent from grades where submission_id = ${submissionId}`)[0];
// The mixed quiz's answer sheets: 5 scores 60%, 4 scores 20%, 6 scores 53.33%, 1 scores 40%.
const percentOf = (sheet: number) => pureGrade(answersOf(sheet)).percent;

async function course(title: string): Promise<string> {
  const { id } = (await jsonOf(await call(app, "POST", "/v1/courses", { token: instructor.accessToken, body: { title } }))) as { id: string };
  await call(app, "POST", `/v1/courses/${id}/publish`, { token: instructor.accessToken });
  for (const u of [learner, other]) expect((await call(app, "POST", `/v1/courses/${id}/enrollments`, { token: u.accessToken })).status).toBe(201);
  return id;
}

async function quiz(courseId: string, title: string, settings: Record<string, unknown> = {}): Promise<string> {
  const res = await call(app, "POST", `/v1/courses/${courseId}/assessments`, { token: instructor.accessToken, body: { title, kind: "quiz", items: mixedQuizItems, keys: mixedQuizKeys, ...settings } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function startAttempt(user: TestUser, assessmentId: string): Promise<string> {
  const res = await call(app, "POST", `/v1/assessments/${assessmentId}/attempts`, { token: user.accessToken });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** Answers with one of the mixed quiz's answer sheets, submits, and waits for the grade to be recorded. */
async function submitGraded(user: TestUser, assessmentId: string, sheet: number): Promise<string> {
  const attemptId = await startAttempt(user, assessmentId);
  expect((await call(app, "PUT", `/v1/attempts/${attemptId}/answers`, { token: user.accessToken, body: { answers: answersOf(sheet) } })).status).toBe(200);
  expect((await call(app, "POST", `/v1/attempts/${attemptId}/submit`, { token: user.accessToken })).status).toBe(200);
  await until(`the grade of ${attemptId}`, () => gradeOf(attemptId));
  return attemptId;
}

const myGrades = async (user: TestUser, query = "") => {
  const res = await call(app, "GET", `/v1/me/grades${query}`, { token: user.accessToken });
  expect(res.status).toBe(200);
  return { page: (await res.json()) as Page<CourseItem>, link: res.headers.get("link") };
};
const mySubmissions = async (user: TestUser, query = "") => {
  const res = await call(app, "GET", `/v1/me/submissions${query}`, { token: user.accessToken });
  expect(res.status).toBe(200);
  return { page: (await res.json()) as Page<SubmissionItem>, link: res.headers.get("link") };
};

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url, OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *" } });
  [instructor, learner, other, newcomer] = await Promise.all([
    signUp(app, db, { admin: true, label: "instructor" }),
    signUp(app, db, { label: "learner" }),
    signUp(app, db, { label: "other" }),
    signUp(app, db, { label: "newcomer" }),
  ]);
  physics = await course("Physics");
  chemistry = await course("Chemistry");
  [units, held, titration] = await Promise.all([quiz(physics, "Units"), quiz(physics, "Held", { releaseMode: "manual" }), quiz(chemistry, "Titration", { attemptsAllowed: 2 })]);
  submissions.units = await submitGraded(learner, units, 5);
  submissions.held = await submitGraded(learner, held, 4);
  submissions.titration = await submitGraded(learner, titration, 6);
  // A second attempt, still open.
  submissions.open = await startAttempt(learner, titration);
  submissions.otherUnits = await submitGraded(other, units, 1);
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

describe("GET /v1/me/grades", () => {
  it("lists the caller's released grades per course, with the course grade over released results only", async () => {
    const { page } = await myGrades(learner);
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((c) => [c.courseId, c.courseTitle])).toEqual([
      [physics, "Physics"],
      [chemistry, "Chemistry"],
    ]);
    const [p, c] = page.items as [CourseItem, CourseItem];
    const unitsGrade = await gradeOf(submissions.units as string);
    expect(p.grades).toEqual([
      {
        id: unitsGrade?.id,
        assessment: { id: units, title: "Units", kind: "quiz", category: "Assessments" },
        submissionId: submissions.units,
        attemptNumber: 1,
        percent: percentOf(5),
        version: 1,
        keyVersion: 1,
        excused: false,
        gradedAt: expect.any(String),
        releasedAt: expect.any(String),
        explanation: `/api/v1/grades/${unitsGrade?.id}/explanation`,
      },
    ]);
    expect(p.grades[0]?.releasedAt).toBe(p.grades[0]?.gradedAt);
    // The held quiz's 20% is recorded but not released: it does not pull the course grade down yet.
    expect(p.courseGrade.percent).toBe(percentOf(5));
    expect(c.grades.map((g) => [g.assessment.id, g.submissionId, g.percent])).toEqual([[titration, submissions.titration, percentOf(6)]]);
    expect(c.courseGrade.percent).toBe(percentOf(6));
  });

  it("shows nobody else's grades", async () => {
    const { page } = await myGrades(learner);
    const otherGrade = await gradeOf(submissions.otherUnits as string);
    expect(JSON.stringify(page)).not.toContain(otherGrade?.id);
    const theirs = await myGrades(other);
    expect(theirs.page.items.map((c) => c.courseId)).toEqual([physics]);
    expect(theirs.page.items[0]?.grades.map((g) => [g.id, g.percent])).toEqual([[otherGrade?.id, percentOf(1)]]);
  });

  it("answers an empty list, not 404, to a learner with no grades", async () => {
    expect((await myGrades(newcomer)).page).toEqual({ items: [], nextCursor: null });
    expect((await mySubmissions(newcomer)).page).toEqual({ items: [], nextCursor: null });
  });

  it("filters by course", async () => {
    const { page } = await myGrades(learner, `?courseId=${chemistry}`);
    expect(page.items.map((c) => c.courseId)).toEqual([chemistry]);
    expect((await myGrades(other, `?courseId=${chemistry}`)).page.items).toEqual([]);
  });

  it("pages through courses with a cursor and a Link header", async () => {
    const first = await myGrades(learner, "?limit=1");
    expect(first.page.items.map((c) => c.courseId)).toEqual([physics]);
    expect(first.page.nextCursor).toEqual(expect.any(String));
    expect(first.link).toBe(`</api/v1/me/grades?limit=1&cursor=${first.page.nextCursor}>; rel="next"`);
    const second = await myGrades(learner, `?limit=1&cursor=${first.page.nextCursor}`);
    expect(second.page.items.map((c) => c.courseId)).toEqual([chemistry]);
    expect(second.page.nextCursor).toBeNull();
    expect(second.link).toBeNull();
  });

  it("links each grade to an explanation the learner may read, and nobody else may", async () => {
    const { page } = await myGrades(learner);
    const grade = page.items[0]?.grades[0] as GradeItem;
    const res = await fetch(`${app.baseUrl}${grade.explanation}`, { headers: { authorization: `Bearer ${learner.accessToken}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ gradeId: grade.id, submissionId: grade.submissionId, percent: grade.percent });
    const stranger = await fetch(`${app.baseUrl}${grade.explanation}`, { headers: { authorization: `Bearer ${other.accessToken}` } });
    expect(stranger.status).toBe(403);
  });

  it("keeps the explanation of an unreleased grade from the learner (one rule with the lists)", async () => {
    const heldGrade = await gradeOf(submissions.held as string);
    const res = await call(app, "GET", `/v1/grades/${heldGrade?.id}/explanation`, { token: learner.accessToken });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "GRADE_NOT_FOUND", detail: "Results are not released yet." });
    expect((await call(app, "GET", `/v1/grades/${heldGrade?.id}/explanation`, { token: instructor.accessToken })).status).toBe(200);
  });
});

describe("GET /v1/me/submissions", () => {
  it("lists the caller's attempts newest first, with a grade only where results are released", async () => {
    const { page } = await mySubmissions(learner);
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((s) => [s.id, s.assessment.title, s.number, s.status])).toEqual([
      [submissions.open, "Titration", 2, "in-progress"],
      [submissions.titration, "Titration", 1, "submitted"],
      [submissions.held, "Held", 1, "submitted"],
      [submissions.units, "Units", 1, "submitted"],
    ]);
    const byId = new Map(page.items.map((s) => [s.id, s]));
    const unitsGrade = await gradeOf(submissions.units as string);
    expect(byId.get(submissions.units as string)).toMatchObject({
      courseId: physics,
      assessment: { id: units, title: "Units", kind: "quiz" },
      submittedBy: "learner",
      submittedAt: expect.any(String),
      startedAt: expect.any(String),
      deadlineAt: null,
      grade: { id: unitsGrade?.id, version: 1, percent: percentOf(5), gradedAt: expect.any(String), explanation: `/api/v1/grades/${unitsGrade?.id}/explanation` },
    });
    expect(byId.get(submissions.open as string)).toMatchObject({ status: "in-progress", submittedAt: null, submittedBy: null, grade: null });
    // Graded (the row exists) but not released: no grade, no score.
    expect(await gradeOf(submissions.held as string)).toMatchObject({ percent: percentOf(4) });
    expect(byId.get(submissions.held as string)?.grade).toBeNull();
    expect(JSON.stringify(page)).not.toContain((await gradeOf(submissions.held as string))?.id);
    expect(page.items.map((s) => s.id)).not.toContain(submissions.otherUnits);
  });

  it("filters by course, assessment and status", async () => {
    const ids = async (query: string) => (await mySubmissions(learner, query)).page.items.map((s) => s.id);
    expect(await ids(`?courseId=${physics}`)).toEqual([submissions.held, submissions.units]);
    expect(await ids(`?assessmentId=${titration}`)).toEqual([submissions.open, submissions.titration]);
    expect(await ids("?status=in-progress")).toEqual([submissions.open]);
    expect(await ids(`?status=submitted&courseId=${chemistry}`)).toEqual([submissions.titration]);
    expect(await ids(`?assessmentId=${units}&courseId=${chemistry}`)).toEqual([]);
  });

  it("pages with a cursor until every attempt was seen once", async () => {
    const seen: string[] = [];
    let query = "?limit=3";
    for (;;) {
      const { page, link } = await mySubmissions(learner, query);
      seen.push(...page.items.map((s) => s.id));
      if (!page.nextCursor) break;
      expect(link).toBe(`</api/v1/me/submissions${query}&cursor=${page.nextCursor}>; rel="next"`);
      query = `?limit=3&cursor=${page.nextCursor}`;
    }
    expect(seen).toEqual([submissions.open, submissions.titration, submissions.held, submissions.units]);
  });
});

describe("bad requests", () => {
  it.each(["/v1/me/grades", "/v1/me/submissions"])("%s answers 401 without a token", async (path) => {
    const res = await call(app, "GET", path);
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 401, code: "UNAUTHENTICATED" });
  });

  it.each([
    ["/v1/me/grades?courseId=physics", "query.courseId", "VALIDATION_FAILED"],
    ["/v1/me/grades?limit=0", "query.limit", "VALIDATION_FAILED"],
    ["/v1/me/grades?cursor=not-a-cursor", "query.cursor", "INVALID_CURSOR"],
    ["/v1/me/submissions?status=graded", "query.status", "VALIDATION_FAILED"],
    ["/v1/me/submissions?assessmentId=1", "query.assessmentId", "VALIDATION_FAILED"],
    ["/v1/me/submissions?limit=101", "query.limit", "VALIDATION_FAILED"],
  ])("%s answers 400 naming %s", async (path, field, code) => {
    const res = await call(app, "GET", path, { token: learner.accessToken });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const problem = (await res.json()) as { code: string; errors: { path: string }[] };
    expect(problem.code).toBe(code);
    expect(problem.errors.map((e) => e.path)).toContain(field);
  });

  it("declares 200, 400 and 401 for both routes in the API document", async () => {
    const doc = (await (await fetch(`${app.baseUrl}/api/openapi.json`)).json()) as { paths: Record<string, { get: { responses: Record<string, unknown> } }> };
    for (const path of ["/v1/me/grades", "/v1/me/submissions"]) {
      expect(Object.keys(doc.paths[path]?.get.responses ?? {})).toEqual(expect.arrayContaining(["200", "400", "401"]));
    }
  });
});

describe("after staff release the results", () => {
  it("shows the held grade in both lists and counts it in the course grade", async () => {
    expect((await call(app, "POST", `/v1/assessments/${held}/release`, { token: instructor.accessToken })).status).toBe(200);
    const heldGrade = await gradeOf(submissions.held as string);
    const { page } = await myGrades(learner, `?courseId=${physics}`);
    const physicsGrades = page.items[0] as CourseItem;
    // Listed in assessment id order; two assessments made in one millisecond may sort either way.
    const byAssessment = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
    expect(physicsGrades.grades.map((g) => [g.assessment.id, g.percent]).sort(byAssessment)).toEqual(
      [
        [units, percentOf(5)],
        [held, percentOf(4)],
      ].sort(byAssessment),
    );
    const shown = physicsGrades.grades.find((g) => g.assessment.id === held) as GradeItem;
    expect(shown.id).toBe(heldGrade?.id);
    // Released after it was graded: seen from the release on.
    expect(Date.parse(shown.releasedAt)).toBeGreaterThan(Date.parse(shown.gradedAt));
    // 60% and 20% in one category.
    expect(physicsGrades.courseGrade.percent).toBe(40);
    const subs = await mySubmissions(learner, `?assessmentId=${held}`);
    expect(subs.page.items[0]?.grade).toMatchObject({ id: heldGrade?.id, percent: percentOf(4) });
    const explanation = await call(app, "GET", `/v1/grades/${heldGrade?.id}/explanation`, { token: learner.accessToken });
    expect(explanation.status).toBe(200);
  });
});

describe("GET /v1/submissions/{submissionId}/grading", () => {
  it("answers the orchestration's typed status, naming the recorded grade", async () => {
    const unitsGrade = await gradeOf(submissions.units as string);
    const status = await jsonOf(await call(app, "GET", `/v1/submissions/${submissions.units}/grading`, { token: instructor.accessToken }));
    expect(status).toMatchObject({ instanceId: `grade-${submissions.units}`, runtimeStatus: "Completed", customStatus: { phase: "graded", gradeId: unitsGrade?.id } });
  });

  it("answers null statuses for a submission whose grading never started", async () => {
    const status = await jsonOf(await call(app, "GET", `/v1/submissions/${submissions.open}/grading`, { token: instructor.accessToken }));
    expect(status).toMatchObject({ runtimeStatus: null, customStatus: null, createdTime: null });
  });

  it("describes every phase of the status in the API document", async () => {
    type Schema = { properties: Record<string, { oneOf?: { type?: string; properties?: Record<string, { enum?: string[] }>; required?: string[] }[] }> };
    const doc = (await (await fetch(`${app.baseUrl}/api/openapi.json`)).json()) as { paths: Record<string, { get: { responses: Record<string, { content: Record<string, { schema: Schema }> }> } }> };
    const body = doc.paths["/v1/submissions/{submissionId}/grading"]?.get.responses["200"]?.content["application/json"]?.schema;
    const shapes = body?.properties.customStatus?.oneOf ?? [];
    expect(shapes.map((s) => (s.type === "null" ? null : [s.properties?.phase?.enum, s.required]))).toEqual([
      [["recording"], ["phase"]],
      [["waiting-for-grader"], ["phase", "items"]],
      [["graded"], ["phase", "gradeId"]],
      null,
    ]);
  });
});
