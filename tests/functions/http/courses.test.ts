import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, signUp, type TestUser } from "../../support/identity.js";
import { expectProblem } from "../../support/problems.js";

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let instructor: TestUser;
let learner: TestUser;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url } });
  [admin, instructor, learner] = await Promise.all([signUp(app, db, { admin: true, label: "admin" }), signUp(app, db, { label: "instr" }), signUp(app, db, { label: "learner" })]);
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

async function createCourse(token: string, body: Record<string, unknown> = {}) {
  const res = await call(app, "POST", "/v1/courses", { token, body: { title: "Intro to Rust", ...body } });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Record<string, unknown> & { id: string };
}

const events = (courseId: string, type: string) => db.sql`select data from outbox where course_id = ${courseId} and type = ${type}`;

describe("creating and changing courses", () => {
  it("lets admins create a draft course whose creator becomes its instructor", async () => {
    const course = await createCourse(admin.accessToken, { tags: ["systems"], capacity: 30 });
    expect(course).toMatchObject({ status: "draft", capacity: 30, seatsTaken: 0, seatsAvailable: 30, waitlistEnabled: true, version: 1 });
    const staff = await jsonOf(await call(app, "GET", `/v1/courses/${course.id}/staff`, { token: admin.accessToken }));
    expect(staff.items).toEqual([expect.objectContaining({ userId: admin.id, role: "instructor" })]);
    expect(await events(course.id, "course.created")).toHaveLength(1);
  });

  it("lets an instructor of some course create courses, and refuses learners", async () => {
    const first = await createCourse(admin.accessToken);
    await call(app, "POST", `/v1/courses/${first.id}/staff`, { token: admin.accessToken, body: { userId: instructor.id, role: "instructor" } });
    const mine = await createCourse(instructor.accessToken, { title: "Mine" });
    expect(mine.status).toBe("draft");
    await expectProblem(await call(app, "POST", "/v1/courses", { token: learner.accessToken, body: { title: "Nope" } }), 403, "FORBIDDEN");
  });

  it("lets a new instructor with no course create one once an admin makes them a course creator, and while they are one or teach", async () => {
    const newcomer = await signUp(app, db, { label: "newcomer" });
    await expectProblem(await call(app, "POST", "/v1/courses", { token: newcomer.accessToken, body: { title: "First" } }), 403, "FORBIDDEN");
    // Only an admin grants the role: the newcomer cannot give it to themselves.
    await expectProblem(await call(app, "PUT", `/v1/users/${newcomer.id}/roles`, { token: newcomer.accessToken, body: { roles: ["course-creator"] } }), 403, "FORBIDDEN");
    const granted = await call(app, "PUT", `/v1/users/${newcomer.id}/roles`, { token: admin.accessToken, body: { roles: ["course-creator"] } });
    expect(granted.status).toBe(200);
    expect((await jsonOf(granted)).roles).toEqual(["course-creator"]);
    const listed = await jsonOf(await call(app, "GET", "/v1/users?role=course-creator", { token: admin.accessToken }));
    expect((listed.items as { id: string }[]).map((u) => u.id)).toEqual([newcomer.id]);
    // The role is read per request: the token they already hold now may create a course, and they teach it.
    const first = await createCourse(newcomer.accessToken, { title: "First" });
    const me = await jsonOf(await call(app, "GET", "/v1/me", { token: newcomer.accessToken }));
    expect(me).toMatchObject({ roles: ["course-creator"], courseRoles: [{ courseId: first.id, role: "instructor" }] });
    expect(await db.sql`select details from audit_log where action = 'user.roles-changed' and target_id = ${newcomer.id}`).toEqual([{ details: { before: [], after: ["course-creator"] } }]);
    // Taken away, they still teach the course they made, and so still may create courses, as any instructor may.
    expect((await call(app, "PUT", `/v1/users/${newcomer.id}/roles`, { token: admin.accessToken, body: { roles: [] } })).status).toBe(200);
    expect((await createCourse(newcomer.accessToken, { title: "Second" })).status).toBe("draft");
    // A course creator who teaches nothing loses the right with the role.
    const other = await signUp(app, db, { label: "other-creator" });
    await call(app, "PUT", `/v1/users/${other.id}/roles`, { token: admin.accessToken, body: { roles: ["course-creator"] } });
    await call(app, "PUT", `/v1/users/${other.id}/roles`, { token: admin.accessToken, body: { roles: [] } });
    await expectProblem(await call(app, "POST", "/v1/courses", { token: other.accessToken, body: { title: "Nope" } }), 403, "FORBIDDEN");
  });

  it("refuses contradictory settings and prerequisite cycles", async () => {
    await expectProblem(
      await call(app, "POST", "/v1/courses", {
        token: admin.accessToken,
        body: { title: "Bad window", enrollmentOpensAt: "2026-02-01T00:00:00Z", enrollmentClosesAt: "2026-01-01T00:00:00Z" },
      }),
      422,
      "INVALID_COURSE_SETTINGS",
    );
    const a = await createCourse(admin.accessToken, { title: "A" });
    const b = await createCourse(admin.accessToken, { title: "B", prerequisiteCourseIds: [a.id] });
    const etag = (await call(app, "GET", `/v1/courses/${a.id}`, { token: admin.accessToken })).headers.get("etag") as string;
    await expectProblem(
      await call(app, "PATCH", `/v1/courses/${a.id}`, { token: admin.accessToken, body: { prerequisiteCourseIds: [b.id] }, headers: { "if-match": etag } }),
      422,
      "PREREQUISITE_CYCLE",
    );
    await expectProblem(await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "C", capacity: -1 } }), 400, "VALIDATION_FAILED");
  });

  it("updates with If-Match and refuses a stale ETag with 412", async () => {
    const course = await createCourse(admin.accessToken);
    const read = await call(app, "GET", `/v1/courses/${course.id}`, { token: admin.accessToken });
    const etag = read.headers.get("etag") as string;
    const updated = await call(app, "PATCH", `/v1/courses/${course.id}`, { token: admin.accessToken, body: { title: "Renamed" }, headers: { "if-match": etag } });
    expect(updated.status).toBe(200);
    expect((await jsonOf(updated)).title).toBe("Renamed");
    await expectProblem(
      await call(app, "PATCH", `/v1/courses/${course.id}`, { token: admin.accessToken, body: { title: "Again" }, headers: { "if-match": etag } }),
      412,
      "PRECONDITION_FAILED",
    );
    await expectProblem(
      await call(app, "PATCH", `/v1/courses/${course.id}`, { token: admin.accessToken, body: { title: "x" }, headers: { "if-match": '"garbage"' } }),
      412,
      "PRECONDITION_FAILED",
    );
  });

  it("moves through draft → published → archived and refuses other transitions", async () => {
    const course = await createCourse(admin.accessToken);
    expect((await jsonOf(await call(app, "POST", `/v1/courses/${course.id}/publish`, { token: admin.accessToken }))).status).toBe("published");
    await expectProblem(await call(app, "POST", `/v1/courses/${course.id}/publish`, { token: admin.accessToken }), 409, "INVALID_STATE_TRANSITION");
    expect((await jsonOf(await call(app, "POST", `/v1/courses/${course.id}/archive`, { token: admin.accessToken }))).status).toBe("archived");
    await expectProblem(await call(app, "POST", `/v1/courses/${course.id}/archive`, { token: admin.accessToken }), 409, "INVALID_STATE_TRANSITION");
    const etag = (await call(app, "GET", `/v1/courses/${course.id}`, { token: admin.accessToken })).headers.get("etag") as string;
    await expectProblem(
      await call(app, "PATCH", `/v1/courses/${course.id}`, { token: admin.accessToken, body: { title: "x" }, headers: { "if-match": etag } }),
      409,
      "COURSE_ARCHIVED",
    );
    expect(await events(course.id, "course.published")).toHaveLength(1);
    expect(await events(course.id, "course.archived")).toHaveLength(1);
  });
});

describe("staff", () => {
  it("adds, re-roles and removes staff, keeps an instructor, and audits each change", async () => {
    const course = await createCourse(admin.accessToken);
    const grader = await signUp(app, db, { label: "grader" });
    const added = await call(app, "POST", `/v1/courses/${course.id}/staff`, { token: admin.accessToken, body: { userId: grader.id, role: "grader" } });
    expect(added.status).toBe(200);
    expect(((await added.json()) as { items: { role: string }[] }).items.map((s) => s.role).sort()).toEqual(["grader", "instructor"]);
    // The grader sees the staff list but may not change it.
    expect((await call(app, "GET", `/v1/courses/${course.id}/staff`, { token: grader.accessToken })).status).toBe(200);
    await expectProblem(await call(app, "POST", `/v1/courses/${course.id}/staff`, { token: grader.accessToken, body: { userId: grader.id, role: "instructor" } }), 403, "FORBIDDEN");
    await expectProblem(await call(app, "DELETE", `/v1/courses/${course.id}/staff/${admin.id}`, { token: admin.accessToken }), 409, "LAST_INSTRUCTOR");
    await expectProblem(await call(app, "POST", `/v1/courses/${course.id}/staff`, { token: admin.accessToken, body: { userId: admin.id, role: "grader" } }), 409, "LAST_INSTRUCTOR");
    expect((await call(app, "DELETE", `/v1/courses/${course.id}/staff/${grader.id}`, { token: admin.accessToken })).status).toBe(204);
    const audit = await db.sql`select action from audit_log where target_id = ${course.id} order by id`;
    expect(audit.map((a) => a.action)).toEqual(["course.staff-added", "course.staff-added", "course.staff-removed"]);
    await expectProblem(
      await call(app, "POST", `/v1/courses/${course.id}/staff`, { token: admin.accessToken, body: { userId: crypto.randomUUID(), role: "grader" } }),
      404,
      "USER_NOT_FOUND",
    );
  });
});

describe("the catalog", () => {
  it("lists published courses to everyone and drafts only to their staff", async () => {
    const published = await createCourse(admin.accessToken, { title: "Catalog published quokka" });
    await call(app, "POST", `/v1/courses/${published.id}/publish`, { token: admin.accessToken });
    const draft = await createCourse(admin.accessToken, { title: "Catalog draft quokka" });
    const anonymous = (await jsonOf(await call(app, "GET", "/v1/courses?q=quokka"))) as { items: { id: string }[] };
    expect(anonymous.items.map((c) => c.id)).toEqual([published.id]);
    const staff = (await jsonOf(await call(app, "GET", "/v1/courses?q=quokka", { token: admin.accessToken }))) as { items: { id: string }[] };
    expect(staff.items.map((c) => c.id).sort()).toEqual([published.id, draft.id].sort());
    // A draft is not found for outsiders, found for staff.
    await expectProblem(await call(app, "GET", `/v1/courses/${draft.id}`, { token: learner.accessToken }), 404, "COURSE_NOT_FOUND");
    expect((await call(app, "GET", `/v1/courses/${draft.id}`, { token: admin.accessToken })).status).toBe(200);
  });

  it("searches title and description, filters by tag, language and free seats", async () => {
    const mk = async (body: Record<string, unknown>) => {
      const c = await createCourse(admin.accessToken, body);
      await call(app, "POST", `/v1/courses/${c.id}/publish`, { token: admin.accessToken });
      return c.id;
    };
    const marker = `zx${Date.now()}`;
    const a = await mk({ title: `Ownership ${marker}`, tags: ["rust"], language: "en", capacity: 0 });
    const b = await mk({ title: "Borrowing", description: `all about ${marker} lifetimes`, tags: ["rust", "advanced"], language: "de" });
    const ids = async (query: string) => ((await jsonOf(await call(app, "GET", `/v1/courses?q=${marker}&${query}`))) as { items: { id: string }[] }).items.map((c) => c.id).sort();
    expect(await ids("")).toEqual([a, b].sort());
    expect(await ids("tag=advanced")).toEqual([b]);
    expect(await ids("language=de")).toEqual([b]);
    expect(await ids("hasSeats=true")).toEqual([b]);
    await expectProblem(await call(app, "GET", "/v1/courses?hasSeats=maybe"), 400, "VALIDATION_FAILED");
  });

  it("pages with a stable order and a next link", async () => {
    const marker = `pg${Date.now()}`;
    for (let i = 0; i < 5; i++) {
      const c = await createCourse(admin.accessToken, { title: `Paged ${marker} ${i}` });
      await call(app, "POST", `/v1/courses/${c.id}/publish`, { token: admin.accessToken });
    }
    const seen: string[] = [];
    let path: string | null = `/v1/courses?q=${marker}&limit=2`;
    while (path) {
      const res: Response = await call(app, "GET", path);
      const page = (await res.json()) as { items: { id: string }[]; nextCursor: string | null };
      seen.push(...page.items.map((c) => c.id));
      const link = res.headers.get("link");
      path = link ? (/^<\/api([^>]+)>/.exec(link)?.[1] ?? null) : null;
    }
    expect(seen).toHaveLength(5);
    expect([...seen].sort().reverse()).toEqual(seen);
  });

  it("answers course detail with an ETag and 304 while unchanged", async () => {
    const course = await createCourse(admin.accessToken);
    await call(app, "POST", `/v1/courses/${course.id}/publish`, { token: admin.accessToken });
    const first = await call(app, "GET", `/v1/courses/${course.id}`);
    const etag = first.headers.get("etag") as string;
    expect((await call(app, "GET", `/v1/courses/${course.id}`, { headers: { "if-none-match": etag } })).status).toBe(304);
    // An enrollment changes the seats: the old ETag no longer matches.
    await call(app, "POST", `/v1/courses/${course.id}/enrollments`, { token: learner.accessToken });
    expect((await call(app, "GET", `/v1/courses/${course.id}`, { headers: { "if-none-match": etag } })).status).toBe(200);
  });
});
