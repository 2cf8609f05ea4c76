import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, signUp } from "../support/identity.js";

let db: TestDatabase;
let app: RunningApp;

beforeAll(async () => {
  db = await createTestDatabase();
  // The safety-net timer is kept out of the way: only the attempt's durable timer can submit it.
  app = await startApp({ env: { DATABASE_URL: db.url, ATTEMPT_DEADLINES_SCHEDULE: "0 0 0 1 1 *", LOCAL_DURABLE_DATA: "memory" } });
});
afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

it("submits a timed attempt at its deadline through its own durable timer", async () => {
  const admin = await signUp(app, db, { admin: true });
  const learner = await signUp(app, db);
  const { id: courseId } = (await (await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Timed" } })).json()) as { id: string };
  await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: admin.accessToken });
  await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken });
  // The lock 3 s from now is earlier than the time limit, so it is the attempt's deadline.
  const lockAt = new Date(Date.now() + 3000).toISOString();
  const created = await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
    token: admin.accessToken,
    body: { title: "Sprint", kind: "quiz", timeLimitMinutes: 30, lockAt, items: [{ id: "q", type: "true-false", points: 1 }], keys: { q: { type: "true-false", correct: true } } },
  });
  const { id } = (await created.json()) as { id: string };
  const attempt = (await (await call(app, "POST", `/v1/assessments/${id}/attempts`, { token: learner.accessToken })).json()) as { id: string; deadlineAt: string };
  expect(attempt.deadlineAt).toBe(lockAt);
  await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.accessToken, body: { answers: { q: true } } });
  let row: { status: string; submitted_by: string | null } | undefined;
  for (let i = 0; i < 100 && row?.status !== "submitted"; i++) {
    await new Promise((r) => setTimeout(r, 150));
    [row] = await db.sql<{ status: string; submitted_by: string | null }[]>`select status, submitted_by from attempts where id = ${attempt.id}`;
  }
  expect(row).toEqual({ status: "submitted", submitted_by: "deadline" });
  // The row commits inside the activity, a moment before the activity (and so the instance) completes.
  const instanceStatus = async () =>
    ((await (await fetch(`${app.baseUrl}/runtime/webhooks/durabletask/instances/deadline-${attempt.id}`)).json()) as { runtimeStatus: string }).runtimeStatus;
  let runtimeStatus = await instanceStatus();
  for (let i = 0; i < 50 && runtimeStatus === "Running"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    runtimeStatus = await instanceStatus();
  }
  expect(runtimeStatus).toBe("Completed");
}, 40_000);
