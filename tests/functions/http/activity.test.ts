import { afterAll, beforeAll, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, signUp } from "../../support/identity.js";

let db: TestDatabase;
let app: RunningApp;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url, OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *" } });
});
afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

it("stores statements once by id on the local Cosmos endpoint, pages the timeline, and adds server-side events", async () => {
  const admin = await signUp(app, db, { admin: true });
  const learner = await signUp(app, db);
  const ready = await jsonOf(await call(app, "GET", "/ready"));
  expect(ready).toMatchObject({ checks: { cosmos: { status: "up" } } });

  const { id: courseId } = (await (await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Biology" } })).json()) as { id: string };
  await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: admin.accessToken });
  const { id: moduleId } = (await (await call(app, "POST", `/v1/courses/${courseId}/modules`, { token: admin.accessToken, body: { title: "Cells" } })).json()) as { id: string };
  const { id: lessonId } = (await (await call(app, "POST", `/v1/courses/${courseId}/modules/${moduleId}/lessons`, { token: admin.accessToken, body: { title: "Membranes", kind: "text", body: "x" } })).json()) as { id: string };
  await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken });

  const statements = [
    { id: "s-1", verb: "viewed", object: { type: "lesson", id: lessonId, courseId }, timestamp: "2026-11-20T10:00:00Z" },
    { id: "s-2", verb: "completed", object: { type: "lesson", id: lessonId, courseId }, result: { completion: true }, timestamp: "2026-11-20T10:05:00Z" },
  ];
  expect(await jsonOf(await call(app, "POST", "/v1/activity", { token: learner.accessToken, body: { statements } }))).toEqual({ accepted: 2, duplicates: 0 });
  expect(await jsonOf(await call(app, "POST", "/v1/activity", { token: learner.accessToken, body: { statements } }))).toEqual({ accepted: 0, duplicates: 2 });
  // The completed statement completed the lesson.
  expect(await db.sql`select 1 from lesson_completions where lesson_id = ${lessonId} and user_id = ${learner.id}`).toHaveLength(1);

  const bad = await call(app, "POST", "/v1/activity", { token: learner.accessToken, body: { statements: [{ ...statements[0], verb: "teleported" }] } });
  expect(bad.status).toBe(400);
  expect((await jsonOf(bad)).errors).toEqual([expect.objectContaining({ path: "body.statements.0.verb" })]);

  // Server-side events (enrolled, lesson completed) reach the timeline through the activity subscription.
  let timeline: { verb: string; source: string; id: string }[] = [];
  for (let i = 0; i < 100; i++) {
    const all: { verb: string; source: string; id: string }[] = [];
    let cursor: string | null = null;
    do {
      const page = (await jsonOf(await call(app, "GET", `/v1/me/activity?limit=1${cursor ? `&cursor=${cursor}` : ""}`, { token: learner.accessToken }))) as {
        items: { verb: string; source: string; id: string }[];
        nextCursor: string | null;
      };
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && all.length < 20);
    timeline = all;
    if (timeline.some((s) => s.source === "server" && s.verb === "enrolled") && timeline.some((s) => s.source === "server" && s.verb === "completed")) break;
    await new Promise((r) => setTimeout(r, 150));
  }
  expect(timeline.filter((s) => s.source === "client").map((s) => s.id).sort()).toEqual(["s-1", "s-2"]);
  expect(timeline.map((s) => `${s.source}:${s.verb}`)).toEqual(expect.arrayContaining(["server:enrolled", "server:completed"]));
  expect((await call(app, "GET", "/v1/me/activity?cursor=bogus", { token: learner.accessToken })).status).toBe(400);
}, 60_000);
