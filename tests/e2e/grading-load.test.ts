import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Answer } from "../../domain/grading/items.js";
import { jsonOf, type RunningApp, startApp } from "../support/app.js";
import { persistentRuntimeState } from "../support/restartable-services.js";
import { recentErrors, waitFor } from "../support/wait-for.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { insertLearners, insertPublishedCourse } from "../support/enrollment-fixtures.js";
import { call } from "../support/identity.js";
import { answersOf, mixedQuizItems, mixedQuizKeys, pureGrade } from "../support/mixed-quiz.js";
import { localClaims, nowSeconds, signHs256 } from "../support/tokens.js";

// One runtime whose durable instances and Service Bus messages live on disk, on a fixed broker port, so a
// runtime killed with SIGKILL and started again finds the orchestrations and messages it left behind.
let db: TestDatabase;
let app: RunningApp;
let runtimeState: Awaited<ReturnType<typeof persistentRuntimeState>>;
let courseId: string;
let adminToken: string;
let graderToken: string;

const tokenFor = (userId: string) => signHs256(localClaims(userId, { exp: nowSeconds() + 1800 }));

async function startRuntime(): Promise<RunningApp> {
  return startApp({
    env: {
      DATABASE_URL: db.url,
      DATABASE_POOL_MAX: "10",
      OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *",
      ...runtimeState.env,
    },
  });
}

/** SIGKILL: no shutdown hooks, no settling, no flushing; then a fresh runtime on the same data. */
async function killAndRestart(): Promise<void> {
  app.process.kill("SIGKILL");
  await app.stop();
  app = await startRuntime();
}

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000) => waitFor(what, probe, { timeoutMs, diagnostics: () => recentErrors(app) });

const settle = () => new Promise((r) => setTimeout(r, 1_000));

/** Learners written straight to the database, enrolled (active) in the course, each with a minted token. */
async function enrolledLearners(count: number, label: string): Promise<{ id: string; token: string }[]> {
  const ids = await insertLearners(db.sql, count, label);
  const rows = ids.map((userId) => ({ id: uuidv7(), course_id: courseId, user_id: userId, status: "active", source: "self" }));
  await db.sql`insert into enrollments ${db.sql(rows, "id", "course_id", "user_id", "status", "source")}`;
  await db.sql`update enrollments set enrolled_at = now() where course_id = ${courseId} and enrolled_at is null`;
  return Promise.all(ids.map(async (id) => ({ id, token: await tokenFor(id) })));
}

async function createAssessment(body: Record<string, unknown>): Promise<string> {
  const res = await call(app, "POST", `/v1/courses/${courseId}/assessments`, { token: adminToken, body });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** Start → save → submit through the API, as the learner; returns the submission (attempt) id. */
async function takeAttempt(token: string, assessmentId: string, answers: Record<string, Answer>): Promise<string> {
  const started = await call(app, "POST", `/v1/assessments/${assessmentId}/attempts`, { token });
  if (started.status !== 201) await failStep("start", started);
  const { id } = (await started.json()) as { id: string };
  const saved = await call(app, "PUT", `/v1/attempts/${id}/answers`, { token, body: { answers } });
  if (saved.status !== 200) await failStep("save", saved);
  const submitted = await call(app, "POST", `/v1/attempts/${id}/submit`, { token });
  if (submitted.status !== 200) await failStep("submit", submitted);
  return id;
}

async function failStep(step: string, res: Response): Promise<never> {
  const answer = await res.text();
  // The runtime writes its log lines off the request path: give the failure's lines a moment to arrive.
  await new Promise((r) => setTimeout(r, 1_000));
  if (process.env.GRADING_LOAD_DUMP) (await import("node:fs")).writeFileSync(process.env.GRADING_LOAD_DUMP, app.output());
  throw new Error(`${step} answered ${res.status}: ${answer}\n${recentErrors(app, 40)}`);
}

const gradesOf = (submissionId: string) => db.sql<{ id: string; percent: number; version: number }[]>`select id, percent, version from grades where submission_id = ${submissionId}`;
const publishedOf = (submissionId: string) =>
  db.sql<{ data: { percent: number; version: number } }[]>`select data from outbox where type = 'grade.published' and aggregate_id = ${submissionId}`;
const gradingStatus = async (submissionId: string) =>
  (await jsonOf(await call(app, "GET", `/v1/submissions/${submissionId}/grading`, { token: graderToken }))) as { runtimeStatus: string | null; customStatus: { phase?: string } | null };

const quiz = { title: "Mixed quiz", kind: "quiz", items: mixedQuizItems, keys: mixedQuizKeys };
const expectedPercent = (answers: Record<string, Answer>) => pureGrade(answers).percent;

beforeAll(async () => {
  db = await createTestDatabase();
  runtimeState = await persistentRuntimeState();
  app = await startRuntime();
  courseId = await insertPublishedCourse(db.sql, { capacity: 1_000, title: "Grading under load" });
  const [adminId, graderId] = await insertLearners(db.sql, 2, "staff");
  await db.sql`update users set is_admin = true where id = ${adminId as string}`;
  await db.sql`insert into course_staff (course_id, user_id, role) values (${courseId}, ${graderId as string}, 'grader')`;
  [adminToken, graderToken] = await Promise.all([tokenFor(adminId as string), tokenFor(graderId as string)]);
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
  await runtimeState?.remove();
});

describe("grading under load and across crashes", () => {
  it("grades 200 concurrent submissions exactly once each, as the pure grading functions do", async () => {
    const quizId = await createAssessment(quiz);
    const learners = await enrolledLearners(200, "load");
    const taken = await Promise.all(
      learners.map(async (l, n) => {
        const answers = answersOf(n);
        return { submissionId: await takeAttempt(l.token, quizId, answers), expected: expectedPercent(answers) };
      }),
    );
    expect(new Set(taken.map((t) => t.expected)).size).toBeGreaterThanOrEqual(10);

    await until(
      "200 grades",
      async () => ((await db.sql`select count(*)::int as n from grades where assessment_id = ${quizId}`)[0]?.n === 200 ? true : undefined),
      40_000,
    );
    // Stragglers (a redelivered message, a second orchestration) would show up now.
    await settle();
    const grades = await db.sql<{ submission_id: string; percent: number; version: number }[]>`select submission_id, percent, version from grades where assessment_id = ${quizId}`;
    expect(grades).toHaveLength(200);
    const bySubmission = new Map(grades.map((g) => [g.submission_id, g]));
    expect(bySubmission.size).toBe(200);
    const published = await db.sql<{ aggregate_id: string; data: { percent: number; version: number } }[]>`
      select aggregate_id, data from outbox where type = 'grade.published' and aggregate_id in ${db.sql(taken.map((t) => t.submissionId))}`;
    expect(published).toHaveLength(200);
    const publishedBySubmission = new Map(published.map((p) => [p.aggregate_id, p.data]));
    expect(publishedBySubmission.size).toBe(200);
    for (const { submissionId, expected } of taken) {
      expect(bySubmission.get(submissionId), submissionId).toMatchObject({ version: 1, percent: expected });
      expect(publishedBySubmission.get(submissionId), submissionId).toMatchObject({ version: 1, percent: expected });
    }
  }, 60_000);

  it("grades an objective quiz with one activity, and a second start of its orchestration records nothing new", async () => {
    const quizId = await createAssessment({ ...quiz, title: "One-step quiz" });
    const [learner] = await enrolledLearners(1, "one-step");
    const answers = answersOf(7);
    const submissionId = await takeAttempt(learner?.token as string, quizId, answers);
    const instance = `${app.baseUrl}/runtime/webhooks/durabletask/instances/grade-${submissionId}`;
    const completed = async () => {
      const res = await fetch(`${instance}?showHistory=true`);
      if (res.status === 404) return undefined; // the subscription has not started it yet
      const body = (await res.json()) as { runtimeStatus: string; input: Record<string, unknown>; historyEvents?: { EventType: string; FunctionName?: string }[] };
      return body.runtimeStatus === "Completed" ? body : undefined;
    };
    const first = await until("the grading orchestration to complete", completed);
    const activities = (first.historyEvents ?? []).filter((e) => e.EventType === "TaskCompleted").map((e) => e.FunctionName);
    expect(activities).toEqual(["grading-auto"]);
    expect(await gradesOf(submissionId)).toMatchObject([{ percent: expectedPercent(answers), version: 1 }]);

    // What a redelivered submission.submitted does against the extension: start the same id again. A finished
    // instance is replaced; its rerun finds the grade version recorded and publishes nothing.
    const again = await fetch(`${app.baseUrl}/runtime/webhooks/durabletask/orchestrators/gradeSubmission/grade-${submissionId}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(first.input),
    });
    expect(again.status).toBe(202);
    await until("the rerun to complete", async () => {
      const body = await completed();
      return body && (body.historyEvents ?? []).some((e) => e.EventType === "TaskCompleted") ? body : undefined;
    });
    await settle();
    expect(await gradesOf(submissionId)).toMatchObject([{ percent: expectedPercent(answers), version: 1 }]);
    expect((await publishedOf(submissionId)).map((p) => p.data)).toMatchObject([{ percent: expectedPercent(answers), version: 1 }]);
  }, 40_000);

  it("records an essay's grade once when the runtime is killed while the orchestration waits for a grader", async () => {
    const essayId = await createAssessment({ title: "Essay", kind: "assignment", items: [{ id: "e1", type: "essay", points: 10 }], keys: {} });
    const [learner] = await enrolledLearners(1, "essay");
    const submissionId = await takeAttempt(learner?.token as string, essayId, { e1: "Energy is conserved because..." });
    await until("the orchestration to wait for a grader", async () => ((await gradingStatus(submissionId)).customStatus?.phase === "waiting-for-grader" ? true : undefined));
    await until("the graders to be told", async () => ((await db.sql`select 1 from outbox where type = 'grading.requested' and aggregate_id = ${submissionId}`).length ? true : undefined));

    await killAndRestart();

    expect(await gradingStatus(submissionId)).toMatchObject({ runtimeStatus: "Running", customStatus: { phase: "waiting-for-grader" } });
    const scored = await call(app, "POST", `/v1/submissions/${submissionId}/grades`, { token: graderToken, body: { scores: [{ itemId: "e1", points: 7, feedback: "Good" }] } });
    expect(await jsonOf(scored)).toEqual({ waitingItems: [] });
    await until("the essay grade", async () => ((await gradesOf(submissionId)).length ? true : undefined));
    await until("the orchestration to complete", async () => ((await gradingStatus(submissionId)).runtimeStatus === "Completed" ? true : undefined));
    await settle();
    const grades = await gradesOf(submissionId);
    expect(grades).toMatchObject([{ percent: 70, version: 1 }]);
    expect((await publishedOf(submissionId)).map((p) => p.data)).toMatchObject([{ percent: 70, version: 1 }]);
  }, 40_000);

  it("grades each submission once when the runtime is killed right after the submissions", async () => {
    const quizId = await createAssessment({ ...quiz, title: "Killed quiz" });
    const learners = await enrolledLearners(12, "killed");
    const taken = await Promise.all(
      learners.map(async (l, n) => {
        const answers = answersOf(n * 13 + 5);
        return { submissionId: await takeAttempt(l.token, quizId, answers), expected: expectedPercent(answers) };
      }),
    );
    // Every submission is committed (and its event published); its orchestration is somewhere on the way.
    app.process.kill("SIGKILL");
    await app.stop();
    const gradedAtKill = (await db.sql`select count(*)::int as n from grades where assessment_id = ${quizId}`)[0]?.n as number;
    // Otherwise the kill came too late to test anything.
    expect(gradedAtKill).toBeLessThan(taken.length);
    app = await startRuntime();

    await until(
      "every grade after the restart",
      async () => ((await db.sql`select count(*)::int as n from grades where assessment_id = ${quizId}`)[0]?.n === taken.length ? true : undefined),
      25_000,
    );
    await settle();
    for (const { submissionId, expected } of taken) {
      expect(await gradesOf(submissionId), submissionId).toMatchObject([{ percent: expected, version: 1 }]);
      expect((await publishedOf(submissionId)).map((p) => p.data), submissionId).toMatchObject([{ percent: expected, version: 1 }]);
    }
  }, 60_000);

  it("records the grade once when the runtime is killed while the recording activity is being retried", async () => {
    const quizId = await createAssessment({ ...quiz, title: "Retried quiz" });
    const [learner] = await enrolledLearners(1, "retried");
    const answers = answersOf(42);
    // A real fault in the recording step: the grades table is gone, so the activity throws and its retry policy waits.
    await db.sql`alter table grades rename to grades_away`;
    let submissionId: string;
    try {
      submissionId = await takeAttempt(learner?.token as string, quizId, answers);
      await until("the orchestration to reach the recording step", async () => ((await gradingStatus(submissionId)).customStatus?.phase === "recording" ? true : undefined));
      // Let the first attempt fail, so the kill lands between attempts of a retried activity.
      await new Promise((r) => setTimeout(r, 500));
      app.process.kill("SIGKILL");
      await app.stop();
    } finally {
      await db.sql`alter table grades_away rename to grades`;
    }
    app = await startRuntime();
    await until("the grade after the restart", async () => ((await gradesOf(submissionId)).length ? true : undefined));
    await until("the orchestration to complete", async () => ((await gradingStatus(submissionId)).runtimeStatus === "Completed" ? true : undefined));
    await settle();
    expect(await gradesOf(submissionId)).toMatchObject([{ percent: expectedPercent(answers), version: 1 }]);
    expect(await publishedOf(submissionId)).toHaveLength(1);
  }, 40_000);
});
