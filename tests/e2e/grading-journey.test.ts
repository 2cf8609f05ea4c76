import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../support/app.js";
import { recentErrors, waitFor } from "../support/wait-for.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";

let db: TestDatabase;
let app: RunningApp;
let instructor: TestUser;
let grader: TestUser;
let learner: TestUser;
let courseId: string;

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000) => waitFor(what, probe, { timeoutMs, diagnostics: () => recentErrors(app) });

const gradeOf = async (submissionId: string) =>
  (await db.sql<{ id: string; percent: number; version: number }[]>`select id, percent, version from grades where submission_id = ${submissionId}`)[0];

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url, OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", ATTEMPT_DEADLINES_SCHEDULE: "*/1 * * * * *", LOCAL_DURABLE_DATA: "memory" } });
  [instructor, grader, learner] = await Promise.all([signUp(app, db, { admin: true, label: "instructor" }), signUp(app, db, { label: "grader" }), signUp(app, db, { label: "learner" })]);
  const course = await call(app, "POST", "/v1/courses", { token: instructor.accessToken, body: { title: "Physics" } });
  courseId = ((await course.json()) as { id: string }).id;
  await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: instructor.accessToken });
  await call(app, "POST", `/v1/courses/${courseId}/staff`, { token: instructor.accessToken, body: { userId: grader.id, role: "grader" } });
  expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken })).status).toBe(201);
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

describe("a learner's assessments, end to end", () => {
  it("auto-submits a timed quiz at its deadline and grades it through the orchestration", async () => {
    const quiz = await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
      token: instructor.accessToken,
      body: {
        title: "Units",
        kind: "quiz",
        timeLimitMinutes: 10,
        items: [
          { id: "q1", type: "true-false", points: 1 },
          { id: "q2", type: "numeric", points: 1 },
        ],
        keys: { q1: { type: "true-false", correct: true }, q2: { type: "numeric", mode: "range", min: 9.7, max: 9.9 } },
      },
    });
    const { id: quizId } = (await quiz.json()) as { id: string };
    const attempt = (await (await call(app, "POST", `/v1/assessments/${quizId}/attempts`, { token: learner.accessToken })).json()) as { id: string };
    await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { q1: true, q2: 12 } } });
    // The deadline passes: the attempt-deadlines timer submits what was saved.
    await db.sql`update attempts set deadline_at = now() - interval '1 second' where id = ${attempt.id}`;
    const grade = await until("the quiz grade", () => gradeOf(attempt.id));
    expect(grade.percent).toBe(50);
    const [row] = await db.sql`select submitted_by from attempts where id = ${attempt.id}`;
    expect(row?.submitted_by).toBe("deadline");
    const explanation = await jsonOf(await call(app, "GET", `/v1/grades/${grade.id}/explanation`, { token: learner.accessToken }));
    expect((explanation.steps as { step: string }[]).map((s) => s.step)).toEqual(["raw", "late", "policy"]);
    const status = await jsonOf(await call(app, "GET", `/v1/submissions/${attempt.id}/grading`, { token: grader.accessToken }));
    expect(status).toMatchObject({ instanceId: `grade-${attempt.id}`, runtimeStatus: "Completed" });
    expect(await db.sql`select 1 from outbox where type = 'grade.published' and aggregate_id = ${attempt.id}`).toHaveLength(1);
  }, 60_000);

  it("waits for a grader on an essay, then records the grade once", async () => {
    const essay = await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
      token: instructor.accessToken,
      body: { title: "Reflection", kind: "assignment", items: [{ id: "e1", type: "essay", points: 10 }], keys: {} },
    });
    const { id: essayId } = (await essay.json()) as { id: string };
    const attempt = (await (await call(app, "POST", `/v1/assessments/${essayId}/attempts`, { token: learner.accessToken })).json()) as { id: string };
    await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { e1: "Energy is conserved because..." } } });
    expect((await call(app, "POST", `/v1/attempts/${attempt.id}/submit`, { token: learner.accessToken })).status).toBe(200);
    await until("the orchestration to wait for a grader", async () => {
      const s = await jsonOf(await call(app, "GET", `/v1/submissions/${attempt.id}/grading`, { token: grader.accessToken }));
      return (s.customStatus as { phase?: string } | null)?.phase === "waiting-for-grader" ? s : undefined;
    });
    expect(await gradeOf(attempt.id)).toBeUndefined();
    // The course's staff are told by email that a submission needs grading.
    await until("the grading email to the grader", async () => {
      const mails = (await (await fetch(`${app.baseUrl}/admin/mailbox/messages`)).json()) as { to: string[]; subject: string }[];
      return mails.find((m) => m.to.some((t) => t.includes(grader.email)) && m.subject.includes("needs grading"));
    });
    const scored = await call(app, "POST", `/v1/submissions/${attempt.id}/grades`, { token: grader.accessToken, body: { scores: [{ itemId: "e1", points: 8, feedback: "Clear" }] } });
    expect(await jsonOf(scored)).toEqual({ waitingItems: [] });
    const grade = await until("the essay grade", () => gradeOf(attempt.id));
    expect(grade).toMatchObject({ percent: 80, version: 1 });
    // The grader's written feedback reaches the learner in the explanation.
    const explained = await jsonOf(await call(app, "GET", `/v1/grades/${grade.id}/explanation`, { token: learner.accessToken }));
    expect(explained.items).toEqual([expect.objectContaining({ itemId: "e1", points: 8, status: "graded", feedback: "Clear" })]);
    await new Promise((r) => setTimeout(r, 500));
    expect(await db.sql`select 1 from grades where submission_id = ${attempt.id}`).toHaveLength(1);
    expect(await db.sql`select 1 from outbox where type = 'grading.requested' and aggregate_id = ${attempt.id}`).toHaveLength(1);
  }, 60_000);

  it("shows the weighted course grade in the gradebook, as JSON and CSV, with excusals", async () => {
    await call(app, "PUT", `/v1/courses/${courseId}/grade-categories`, {
      token: instructor.accessToken,
      body: { categories: [{ name: "Assessments", weightPercent: 100, dropLowest: 0 }] },
    });
    const book = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/gradebook`, { token: grader.accessToken }));
    const row = (book.items as { userId: string; results: Record<string, unknown>; course: { percent: number } }[]).find((i) => i.userId === learner.id);
    // The quiz (50%) and the essay (80%) in one category: 65%.
    expect(row?.course.percent).toBe(65);
    const quizId = (book.assessments as { id: string; title: string }[]).find((a) => a.title === "Units")?.id as string;
    expect((await call(app, "POST", `/v1/assessments/${quizId}/excusals`, { token: instructor.accessToken, body: { userId: learner.id, reason: "ill" } })).status).toBe(204);
    const after = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/gradebook`, { token: grader.accessToken }));
    const excused = (after.items as { userId: string; results: Record<string, unknown>; course: { percent: number } }[]).find((i) => i.userId === learner.id);
    expect(excused?.results[quizId]).toBe("excused");
    expect(excused?.course.percent).toBe(80);
    const csv = await call(app, "GET", `/v1/courses/${courseId}/gradebook?format=csv`, { token: grader.accessToken });
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(await csv.text()).toContain(`${learner.id},`);
    expect((await call(app, "GET", `/v1/courses/${courseId}/gradebook`, { token: learner.accessToken })).status).toBe(403);
    expect(await db.sql`select 1 from audit_log where action in ('grade.recorded', 'grade.excused', 'grade.manual-scored')`).toHaveLength(4);
  });

  it("regrades after an answer-key change: a dry run shows the difference, the regrade adds a version", async () => {
    const book = await jsonOf(await call(app, "GET", `/v1/courses/${courseId}/gradebook`, { token: grader.accessToken }));
    const quizId = (book.assessments as { id: string; title: string }[]).find((a) => a.title === "Units")?.id as string;
    const [submission] = await db.sql<{ id: string }[]>`select id from attempts where assessment_id = ${quizId}`;
    const submissionId = submission?.id as string;
    // Hold the automatic regrade back by changing the key behind the API first, to look at the dry run.
    await db.sql`insert into assessment_keys (assessment_id, version, keys) values (${quizId}, 2,
      ${JSON.stringify({ q1: { type: "true-false", correct: true }, q2: { type: "numeric", mode: "range", min: 9, max: 13 } })}::jsonb)`;
    await db.sql`update assessments set key_version = 2 where id = ${quizId}`;
    const before = await db.sql`select count(*)::int as n from grades`;
    const dry = await jsonOf(await call(app, "POST", `/v1/assessments/${quizId}/regrade?dryRun=true`, { token: instructor.accessToken }));
    expect(dry).toEqual({ dryRun: true, differences: [expect.objectContaining({ submissionId, before: 50, after: 100, keyVersionBefore: 1, keyVersionAfter: 2 })] });
    expect(await db.sql`select count(*)::int as n from grades`).toEqual(before);
    // The real thing, through the API: a new key version, picked up by the grading worker.
    const patched = await call(app, "PATCH", `/v1/assessments/${quizId}`, {
      token: instructor.accessToken,
      body: { keys: { q1: { type: "true-false", correct: true }, q2: { type: "numeric", mode: "range", min: 9, max: 13 } } },
    });
    expect(((await patched.json()) as { keyVersion: number }).keyVersion).toBe(3);
    const regraded = await until("the new grade version", async () =>
      (await db.sql<{ version: number; percent: number; key_version: number }[]>`select version, percent, key_version from grades where submission_id = ${submissionId} and key_version = 3`)[0],
    );
    expect(regraded).toMatchObject({ version: 2, percent: 100 });
    const versions = await db.sql`select version, percent from grades where submission_id = ${submissionId} order by version`;
    expect(versions).toEqual([{ version: 1, percent: 50 }, { version: 2, percent: 100 }]);
    // Categories were set meanwhile: the new version explains its contribution to the course grade too.
    const [v2] = await db.sql<{ id: string }[]>`select id from grades where submission_id = ${submissionId} and version = 2`;
    const explanation = await jsonOf(await call(app, "GET", `/v1/grades/${v2?.id as string}/explanation`, { token: learner.accessToken }));
    const steps = explanation.steps as { step: string; detail: string }[];
    expect(steps.map((s) => s.step)).toEqual(["raw", "late", "policy", "contribution"]);
    expect(steps.at(-1)?.detail).toContain("Assessments weighs 100% of the course");
  }, 60_000);

  it("keeps results of a manually released assessment from learners until staff release them", async () => {
    const quiz = await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
      token: instructor.accessToken,
      body: { title: "Held", kind: "quiz", releaseMode: "manual", items: [{ id: "q", type: "true-false", points: 1 }], keys: { q: { type: "true-false", correct: true } } },
    });
    const { id } = (await quiz.json()) as { id: string };
    const attempt = (await (await call(app, "POST", `/v1/assessments/${id}/attempts`, { token: learner.accessToken })).json()) as { id: string };
    await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { q: true } } });
    await call(app, "POST", `/v1/attempts/${attempt.id}/submit`, { token: learner.accessToken });
    const grade = await until("the held grade", () => gradeOf(attempt.id));
    const hidden = await call(app, "GET", `/v1/grades/${grade.id}/explanation`, { token: learner.accessToken });
    expect(hidden.status).toBe(404);
    expect((await call(app, "GET", `/v1/grades/${grade.id}/explanation`, { token: grader.accessToken })).status).toBe(200);
    expect((await call(app, "POST", `/v1/assessments/${id}/release`, { token: instructor.accessToken })).status).toBe(200);
    const shown = await jsonOf(await call(app, "GET", `/v1/grades/${grade.id}/explanation`, { token: learner.accessToken }));
    expect(shown.percent).toBe(100);
  }, 60_000);
});
