import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, createCourse, signUp, strongPassword, type TestUser, uniqueEmail } from "../../support/identity.js";
import { expectProblem, expectValidationProblem } from "../../support/problems.js";

// The defects the schema-driven fuzzer found first, each as it was reported; the fuzz test covers the rest.
let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let instructor: TestUser;
let courseId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url } });
  [admin, instructor] = await Promise.all([signUp(app, db, { label: "hostile-admin", admin: true }), signUp(app, db, { label: "hostile-instructor" })]);
  courseId = await createCourse(db, [{ userId: instructor.id, role: "instructor" }]);
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

describe("a NUL character in a text field", () => {
  it("is a 400 naming the field on every route the report named, and nothing is written", async () => {
    const users = Number((await db.sql`select count(*)::int as n from users`)[0]?.n);
    await expectValidationProblem(await call(app, "POST", "/v1/auth/login", { body: { email: "a\u0000@x.test", password: "whatever-long-1" } }), "body.email");
    await expectValidationProblem(await call(app, "POST", "/v1/auth/register", { body: { email: uniqueEmail(), password: strongPassword(), displayName: "Nul\u0000Name" } }), "body.displayName");
    await expectValidationProblem(await call(app, "PATCH", "/v1/me", { token: instructor.accessToken, body: { displayName: "x\u0000" } }), "body.displayName");
    await expectValidationProblem(await call(app, "GET", "/v1/courses?tag=%00"), "query.tag");
    await expectValidationProblem(await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "T\u0000" } }), "body.title");
    await expectValidationProblem(await call(app, "PATCH", `/v1/courses/${courseId}`, { token: instructor.accessToken, body: { title: "T\u0000" } }), "body.title");
    await expectValidationProblem(await call(app, "POST", `/v1/courses/${courseId}/modules`, { token: instructor.accessToken, body: { title: "M\u0000" } }), "body.title");
    await expectValidationProblem(
      await call(app, "POST", "/v1/webhooks", { token: admin.accessToken, body: { url: "https://hooks.example.com/\u0000", eventTypes: ["enrollment.created"] } }), "body.url");
    expect(Number((await db.sql`select count(*)::int as n from users`)[0]?.n)).toBe(users);
    expect((await db.sql`select title from courses where id = ${courseId}`)[0]?.title).not.toContain("\u0000");
  });
});

describe("course routes an administrator calls for a course that does not exist", () => {
  it("answer 404, not a foreign-key fault", async () => {
    const missing = randomUUID();
    await expectProblem(
      await call(app, "PUT", `/v1/courses/${missing}/grade-categories`, { token: admin.accessToken, body: { categories: [{ name: "Quizzes", weightPercent: 50 }] } }),
      404,
      "NOT_FOUND",
    );
    await expectProblem(await call(app, "POST", `/v1/courses/${missing}/modules`, { token: admin.accessToken, body: { title: "Module" } }), 404, "NOT_FOUND");
    // The same request for a course that exists works.
    const ok = await call(app, "PUT", `/v1/courses/${courseId}/grade-categories`, { token: admin.accessToken, body: { categories: [{ name: "Quizzes", weightPercent: 50 }] } });
    expect(ok.status, JSON.stringify(await jsonOf(ok.clone()))).toBe(200);
  });
});
