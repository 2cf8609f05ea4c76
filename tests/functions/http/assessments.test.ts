import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, signUp, type TestUser } from "../../support/identity.js";
import { expectProblem } from "../../support/problems.js";

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let learner: TestUser;
let courseId: string;

const choices = [
  { id: "a", text: "2" },
  { id: "b", text: "4" },
];
const quiz = (extra: Record<string, unknown> = {}) => ({
  title: "Arithmetic",
  kind: "quiz",
  items: [
    { id: "q1", type: "single", points: 1, prompt: "2+2?", choices },
    { id: "q2", type: "numeric", points: 1, prompt: "pi?" },
    { id: "q3", type: "essay", points: 2, prompt: "Why?" },
  ],
  keys: { q1: { type: "single", correct: "b" }, q2: { type: "numeric", mode: "tolerance", value: 3.14, tolerance: 0.01 } },
  ...extra,
});

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url } });
  admin = await signUp(app, db, { admin: true });
  learner = await signUp(app, db);
  const created = await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Maths" } });
  courseId = ((await created.json()) as { id: string }).id;
  await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: admin.accessToken });
  await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken });
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

async function createQuiz(extra: Record<string, unknown> = {}) {
  const res = await call(app, "POST", `/v1/courses/${courseId}/assessments`, { token: admin.accessToken, body: quiz(extra) });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string };
}

describe("assessments", () => {
  it("refuses contradictory settings, naming each", async () => {
    const res = await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
      token: admin.accessToken,
      body: quiz({ dueAt: "2026-05-02T00:00:00Z", lockAt: "2026-05-01T00:00:00Z", keys: { q1: { type: "single", correct: "z" } } }),
    });
    expect(res.status).toBe(422);
    const body = await jsonOf(res);
    expect(body.code).toBe("INVALID_ASSESSMENT_SETTINGS");
    expect(body.problems).toEqual(expect.arrayContaining(["lockAt is before dueAt", "q1: the key names no choice of the item", "q2: needs a numeric key"]));
  });

  it("shows the key to staff only", async () => {
    const { id } = await createQuiz();
    expect(await jsonOf(await call(app, "GET", `/v1/assessments/${id}`, { token: admin.accessToken }))).toHaveProperty("keys.q1");
    const seen = await jsonOf(await call(app, "GET", `/v1/assessments/${id}`, { token: learner.accessToken }));
    expect(seen).not.toHaveProperty("keys");
    expect(seen.totalPoints).toBe(4);
  });
});

describe("attempts", () => {
  it("fixes the deadline at start, saves answers, submits once and writes submission.submitted", async () => {
    const { id } = await createQuiz({ timeLimitMinutes: 30, attemptsAllowed: 1 });
    const started = await call(app, "POST", `/v1/assessments/${id}/attempts`, { token: learner.accessToken });
    const attempt = (await started.json()) as { id: string; startedAt: string; deadlineAt: string };
    expect(new Date(attempt.deadlineAt).getTime() - new Date(attempt.startedAt).getTime()).toBe(30 * 60_000);
    await expectProblem(await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { q1: "zz" } } }), 422, "INVALID_ANSWER");
    expect((await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { q1: "b", q2: 3.141 } } })).status).toBe(200);
    const other = await signUp(app, db);
    await expectProblem(await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: other.accessToken, body: { answers: {} } }), 403, "FORBIDDEN");
    const submitted = await call(app, "POST", `/v1/attempts/${attempt.id}/submit`, { token: learner.accessToken });
    expect(await jsonOf(submitted)).toMatchObject({ status: "submitted", submittedBy: "learner", answers: { q1: "b", q2: 3.141 } });
    expect((await call(app, "POST", `/v1/attempts/${attempt.id}/submit`, { token: learner.accessToken })).status).toBe(200);
    const events = await db.sql`select data from outbox where type = 'submission.submitted' and aggregate_id = ${attempt.id}`;
    expect(events).toHaveLength(1);
    await expectProblem(await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { q1: "a" } } }), 409, "ATTEMPT_CLOSED");
    await expectProblem(await call(app, "POST", `/v1/assessments/${id}/attempts`, { token: learner.accessToken }), 409, "ATTEMPTS_EXHAUSTED");
    expect((await call(app, "GET", `/v1/submissions/${attempt.id}`, { token: admin.accessToken })).status).toBe(200);
  });

  it("refuses attempts before opening and after the lock", async () => {
    const early = await createQuiz({ availableFrom: "2099-01-01T00:00:00Z" });
    await expectProblem(await call(app, "POST", `/v1/assessments/${early.id}/attempts`, { token: learner.accessToken }), 409, "ASSESSMENT_NOT_AVAILABLE");
    const locked = await createQuiz({ dueAt: "2020-01-01T00:00:00Z", lockAt: "2020-01-02T00:00:00Z" });
    await expectProblem(await call(app, "POST", `/v1/assessments/${locked.id}/attempts`, { token: learner.accessToken }), 409, "ASSESSMENT_LOCKED");
  });

  it("submits an attempt at its deadline through the attempt-deadlines timer", async () => {
    const { id } = await createQuiz({ timeLimitMinutes: 5 });
    const attempt = (await (await call(app, "POST", `/v1/assessments/${id}/attempts`, { token: learner.accessToken })).json()) as { id: string };
    await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { q1: "b" } } });
    await db.sql`update attempts set deadline_at = now() - interval '1 second' where id = ${attempt.id}`;
    const fired = await fetch(`${app.baseUrl}/admin/functions/attempt-deadlines`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input: "" }) });
    expect(fired.status).toBe(202);
    let row: { status: string; submitted_by: string | null } | undefined;
    for (let i = 0; i < 50; i++) {
      [row] = await db.sql<{ status: string; submitted_by: string | null }[]>`select status, submitted_by from attempts where id = ${attempt.id}`;
      if (row?.status === "submitted") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(row).toEqual({ status: "submitted", submitted_by: "deadline" });
  });

  it("takes file answers straight to storage, only under the attempt's own prefix", async () => {
    const created = await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
      token: admin.accessToken,
      body: { title: "Lab report", kind: "assignment", items: [{ id: "f", type: "file", points: 5 }], keys: {} },
    });
    const { id } = (await created.json()) as { id: string };
    const attempt = (await (await call(app, "POST", `/v1/assessments/${id}/attempts`, { token: learner.accessToken })).json()) as { id: string };
    const bytes = Buffer.from("%PDF-1.4 lab report");
    const grantRes = await call(app, "POST", `/v1/attempts/${attempt.id}/files`, {
      token: learner.accessToken,
      body: { itemId: "f", fileName: "report.pdf", contentType: "application/pdf", sizeBytes: bytes.length },
    });
    expect(grantRes.status).toBe(201);
    const grant = (await grantRes.json()) as { blobName: string; url: string; headers: Record<string, string> };
    expect(grant.blobName).toMatch(new RegExp(`^submissions/${courseId}/${attempt.id}/f/`));
    expect((await fetch(grant.url, { method: "PUT", headers: grant.headers, body: bytes })).status).toBe(201);
    await expectProblem(
      await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { f: `submissions/${courseId}/someone-else/f/x.pdf` } } }),
      422,
      "INVALID_ANSWER",
    );
    expect((await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { f: grant.blobName } } })).status).toBe(200);
    await call(app, "POST", `/v1/attempts/${attempt.id}/submit`, { token: learner.accessToken });
    const submission = (await (await call(app, "GET", `/v1/submissions/${attempt.id}`, { token: admin.accessToken })).json()) as { files: Record<string, string> };
    const download = await fetch(submission.files.f as string);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(bytes);
    await expectProblem(
      await call(app, "POST", `/v1/attempts/${attempt.id}/files`, { token: learner.accessToken, body: { itemId: "f", fileName: "late.pdf", contentType: "application/pdf", sizeBytes: 3 } }),
      409,
      "ATTEMPT_CLOSED",
    );
  });
});
