import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectJson, jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, signUp, type TestUser } from "../../support/identity.js";
import { expectProblem, expectValidationProblem } from "../../support/problems.js";

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let instructor: TestUser;

interface Lesson {
  id: string;
  moduleId: string;
  courseId: string;
  title: string;
  kind: string;
  position: number;
  required: boolean;
  hidden: boolean;
  locked: "unlocks-later" | "earlier-lessons-first" | null;
  completed: boolean | null;
  body: string | null;
  url: string | null;
  version: number;
  file: { name: string | null; contentType: string | null; sizeBytes: number | null; status: string | null; downloadUrl: string | null; downloadUrlExpiresAt: string | null } | null;
}
interface Module {
  id: string;
  courseId: string;
  title: string;
  position: number;
  hidden: boolean;
  lessons?: Lesson[];
}
interface Grant {
  blobName: string;
  url: string;
  method: "PUT";
  headers: Record<string, string>;
  expiresAt: string;
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url } });
  admin = await signUp(app, db, { label: "admin", admin: true });
  instructor = await signUp(app, db, { label: "instructor" });
  // An admin's first course makes a colleague its instructor; from then on the instructor creates their own.
  const course = await createCourse(admin.accessToken);
  const staffed = await call(app, "POST", `/v1/courses/${course}/staff`, { token: admin.accessToken, body: { userId: instructor.id, role: "instructor" } });
  if (staffed.status !== 200) throw new Error(`staff answered ${staffed.status}: ${await staffed.text()}`);
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

/** Asserts an RFC 9457 problem with this status and code (and so never a 500), and returns it. */
async function ok<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return (text ? JSON.parse(text) : null) as T;
}

async function createCourse(token: string, settings: Record<string, unknown> = {}): Promise<string> {
  const res = await call(app, "POST", "/v1/courses", { token, body: { title: `Content ${randomBytes(3).toString("hex")}`, ...settings } });
  if (res.status !== 201) throw new Error(`create course answered ${res.status}: ${await res.text()}`);
  return (await jsonOf(res)).id as string;
}

/** A published course of the instructor's. */
async function publishedCourse(settings: Record<string, unknown> = {}): Promise<string> {
  const id = await createCourse(instructor.accessToken, settings);
  await ok(await call(app, "POST", `/v1/courses/${id}/publish`, { token: instructor.accessToken }));
  return id;
}

async function enrolledLearner(courseId: string): Promise<TestUser> {
  const learner = await signUp(app, db, { label: "learner" });
  await ok(await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: learner.accessToken }), 201);
  return learner;
}

async function addModule(courseId: string, title = "Module"): Promise<Module> {
  return ok<Module>(await call(app, "POST", `/v1/courses/${courseId}/modules`, { token: instructor.accessToken, body: { title } }), 201);
}

async function addLesson(mod: Module, lesson: Record<string, unknown> = {}): Promise<Lesson> {
  const body = { title: "Lesson", kind: "text", body: "# Hello", ...lesson };
  return ok<Lesson>(await call(app, "POST", `/v1/courses/${mod.courseId}/modules/${mod.id}/lessons`, { token: instructor.accessToken, body }), 201);
}

const outline = async (courseId: string, token: string) => (await ok<{ items: Module[] }>(await call(app, "GET", `/v1/courses/${courseId}/modules`, { token }))).items;
const getLesson = (lessonId: string, token: string, headers: Record<string, string> = {}) => call(app, "GET", `/v1/lessons/${lessonId}`, { token, headers });
const complete = (lessonId: string, token: string) => call(app, "POST", `/v1/lessons/${lessonId}/complete`, { token });
const patchLesson = (lessonId: string, body: unknown, headers: Record<string, string> = {}) =>
  call(app, "PATCH", `/v1/lessons/${lessonId}`, { token: instructor.accessToken, body, headers });
const locks = (mods: Module[]) => Object.fromEntries(mods.flatMap((m) => m.lessons ?? []).map((l) => [l.title, l.locked]));

const requestUpload = (lessonId: string, file: Record<string, unknown>, token = instructor.accessToken) =>
  call(app, "POST", `/v1/lessons/${lessonId}/files`, { token, body: file });
const confirmUpload = (lessonId: string, token = instructor.accessToken) => call(app, "POST", `/v1/lessons/${lessonId}/files/confirm`, { token });
const put = (grant: Grant, bytes: Uint8Array, headers: Record<string, string> = {}) =>
  fetch(grant.url, { method: grant.method, headers: { ...grant.headers, ...headers }, body: bytes });

describe("courses for content", () => {
  it("lets an admin create and publish a course, becoming its instructor", async () => {
    const id = await createCourse(admin.accessToken);
    const staff = await ok<{ items: { userId: string; role: string }[] }>(await call(app, "GET", `/v1/courses/${id}/staff`, { token: admin.accessToken }));
    expect(staff.items).toEqual([expect.objectContaining({ userId: admin.id, role: "instructor" })]);
    const published = await ok<{ status: string }>(await call(app, "POST", `/v1/courses/${id}/publish`, { token: admin.accessToken }));
    expect(published.status).toBe("published");
  });
});

describe("modules and lessons", () => {
  it("adds modules and lessons at the end, in order, and reorders them", async () => {
    const courseId = await publishedCourse();
    const mods = [await addModule(courseId, "One"), await addModule(courseId, "Two"), await addModule(courseId, "Three")];
    expect(mods.map((m) => m.position)).toEqual([1, 2, 3]);
    const [one, two, three] = mods as [Module, Module, Module];

    const created = await call(app, "POST", `/v1/courses/${courseId}/modules/${one.id}/lessons`, { token: instructor.accessToken, body: { title: "A", kind: "text", body: "a" } });
    const a = await ok<Lesson>(created, 201);
    expect(created.headers.get("location")).toBe(`/api/v1/lessons/${a.id}`);
    const b = await addLesson(one, { title: "B", kind: "link", url: "https://example.com/b", body: undefined });
    const c = await addLesson(one, { title: "C" });
    expect([a, b, c].map((l) => [l.position, l.moduleId, l.courseId])).toEqual([1, 2, 3].map((p) => [p, one.id, courseId]));

    const reordered = await ok<{ items: Module[] }>(
      await call(app, "POST", `/v1/courses/${courseId}/modules/reorder`, { token: instructor.accessToken, body: { moduleIds: [three.id, one.id, two.id] } }),
    );
    expect(reordered.items.map((m) => [m.title, m.position])).toEqual([["Three", 1], ["One", 2], ["Two", 3]]);

    const lessons = await ok<{ items: Lesson[] }>(
      await call(app, "POST", `/v1/courses/${courseId}/modules/${one.id}/lessons/reorder`, { token: instructor.accessToken, body: { lessonIds: [c.id, a.id, b.id] } }),
    );
    expect(lessons.items.map((l) => [l.title, l.position])).toEqual([["C", 1], ["A", 2], ["B", 3]]);

    const seen = await outline(courseId, instructor.accessToken);
    expect(seen.map((m) => m.title)).toEqual(["Three", "One", "Two"]);
    expect(seen[1]?.lessons?.map((l) => l.title)).toEqual(["C", "A", "B"]);
    const listed = await ok<{ items: Lesson[] }>(await call(app, "GET", `/v1/courses/${courseId}/modules/${one.id}/lessons`, { token: instructor.accessToken }));
    expect(listed.items.map((l) => l.title)).toEqual(["C", "A", "B"]);
  });

  it("refuses a reorder that misses, repeats or adds an item with REORDER_MISMATCH", async () => {
    const courseId = await publishedCourse();
    const [m1, m2] = [await addModule(courseId), await addModule(courseId)];
    const [l1, l2] = [await addLesson(m1), await addLesson(m1)];
    const foreign = await addLesson(m2);
    const reorderModules = (moduleIds: string[]) => call(app, "POST", `/v1/courses/${courseId}/modules/reorder`, { token: instructor.accessToken, body: { moduleIds } });
    const reorderLessons = (lessonIds: string[]) =>
      call(app, "POST", `/v1/courses/${courseId}/modules/${m1.id}/lessons/reorder`, { token: instructor.accessToken, body: { lessonIds } });

    for (const ids of [[m1.id], [m1.id, m1.id], [m1.id, m2.id, m2.id], [m1.id, foreign.id]]) await expectProblem(await reorderModules(ids), 422, "REORDER_MISMATCH");
    for (const ids of [[l2.id], [l1.id, l1.id], [l1.id, l2.id, l1.id], [l1.id, foreign.id], [l1.id, l2.id, foreign.id]]) {
      await expectProblem(await reorderLessons(ids), 422, "REORDER_MISMATCH");
    }
    await expectProblem(await reorderLessons(["not-a-uuid"]), 400, "VALIDATION_FAILED");
    await expectProblem(await reorderLessons([]), 400, "VALIDATION_FAILED");
    // Nothing moved.
    const lessons = (await outline(courseId, instructor.accessToken))[0]?.lessons ?? [];
    expect(lessons.map((l) => l.id)).toEqual([l1.id, l2.id]);
  });

  it("checks what each kind of lesson needs", async () => {
    const courseId = await publishedCourse();
    const mod = await addModule(courseId);
    const create = (body: Record<string, unknown>) => call(app, "POST", `/v1/courses/${courseId}/modules/${mod.id}/lessons`, { token: instructor.accessToken, body });

    await expectProblem(await create({ title: "No body", kind: "text" }), 422, "INVALID_COURSE_SETTINGS");
    await expectProblem(await create({ title: "Empty body", kind: "text", body: "" }), 422, "INVALID_COURSE_SETTINGS");
    await expectProblem(await create({ title: "No url", kind: "link" }), 422, "INVALID_COURSE_SETTINGS");
    await expectProblem(await create({ title: "No assessment", kind: "assessment" }), 422, "INVALID_COURSE_SETTINGS");
    for (const url of ["not a url", "ftp://example.com/x", "javascript:alert(1)"]) {
      await expectValidationProblem(await create({ title: "Bad url", kind: "link", url }), "body.url");
    }
    await expectProblem(await create({ title: "Odd", kind: "video" }), 400, "VALIDATION_FAILED");
    await expectProblem(await create({ title: "When", kind: "text", body: "x", unlockAt: "tomorrow" }), 400, "VALIDATION_FAILED");
    await expectProblem(await create({ title: "", kind: "text", body: "x" }), 400, "VALIDATION_FAILED");

    const file = await ok<Lesson>(await create({ title: "File", kind: "file" }), 201);
    expect(file.file).toMatchObject({ status: "awaiting-upload", downloadUrl: null });
    const text = await addLesson(mod);
    await expectProblem(await patchLesson(text.id, { body: null }), 422, "INVALID_COURSE_SETTINGS");
    expect((await outline(courseId, instructor.accessToken))[0]?.lessons?.map((l) => l.title)).toEqual(["File", "Lesson"]);
  });

  it("answers unknown modules and lessons with 404 problems", async () => {
    const courseId = await publishedCourse();
    const other = await publishedCourse();
    const foreign = await addModule(other);
    await expectProblem(await call(app, "GET", `/v1/courses/${courseId}/modules/${foreign.id}/lessons`, { token: instructor.accessToken }), 404, "MODULE_NOT_FOUND");
    await expectProblem(
      await call(app, "POST", `/v1/courses/${courseId}/modules/${foreign.id}/lessons`, { token: instructor.accessToken, body: { title: "x", kind: "text", body: "x" } }),
      404,
      "MODULE_NOT_FOUND",
    );
    const missing = "0190a0a0-0000-7000-8000-000000000000";
    for (const res of [await getLesson(missing, instructor.accessToken), await patchLesson(missing, { title: "x" }), await complete(missing, instructor.accessToken)]) {
      await expectProblem(res, 404, "NOT_FOUND");
    }
    await expectProblem(await getLesson("nope", instructor.accessToken), 400, "VALIDATION_FAILED");
  });
});

describe("what learners see", () => {
  it("keeps content from users who are not enrolled (403) and from anonymous callers (401)", async () => {
    const courseId = await publishedCourse();
    const mod = await addModule(courseId);
    const lesson = await addLesson(mod);
    const file = await addLesson(mod, { kind: "file", body: undefined });
    const stranger = await signUp(app, db, { label: "stranger" });
    const attempts = [
      call(app, "GET", `/v1/courses/${courseId}/modules`, { token: stranger.accessToken }),
      call(app, "GET", `/v1/courses/${courseId}/modules/${mod.id}/lessons`, { token: stranger.accessToken }),
      getLesson(lesson.id, stranger.accessToken),
      complete(lesson.id, stranger.accessToken),
      requestUpload(file.id, { fileName: "a.pdf", contentType: "application/pdf", sizeBytes: 3 }, stranger.accessToken),
      call(app, "POST", `/v1/courses/${courseId}/modules`, { token: stranger.accessToken, body: { title: "Mine" } }),
    ];
    for (const res of await Promise.all(attempts)) await expectProblem(res, 403, "FORBIDDEN");
    await expectProblem(await call(app, "GET", `/v1/courses/${courseId}/modules`), 401, "UNAUTHENTICATED");
    await expectProblem(await getLesson(lesson.id, ""), 401, "UNAUTHENTICATED");
    const [count] = await db.sql`select count(*)::int as n from lesson_completions where lesson_id = ${lesson.id}`;
    expect(count?.n).toBe(0);
  });

  it("lets an enrolled learner read but not change the content", async () => {
    const courseId = await publishedCourse();
    const mod = await addModule(courseId);
    const lesson = await addLesson(mod, { body: "Read me" });
    const learner = await enrolledLearner(courseId);
    const mods = await outline(courseId, learner.accessToken);
    expect(mods[0]?.lessons?.[0]).toMatchObject({ id: lesson.id, body: "Read me", locked: null, completed: false });
    await expectProblem(await call(app, "PATCH", `/v1/lessons/${lesson.id}`, { token: learner.accessToken, body: { title: "Mine" } }), 403, "FORBIDDEN");
    await expectProblem(await call(app, "DELETE", `/v1/lessons/${lesson.id}`, { token: learner.accessToken }), 403, "FORBIDDEN");
    await expectProblem(await call(app, "POST", `/v1/courses/${courseId}/modules`, { token: learner.accessToken, body: { title: "Mine" } }), 403, "FORBIDDEN");
    await expectProblem(
      await call(app, "POST", `/v1/courses/${courseId}/modules/${mod.id}/lessons/reorder`, { token: learner.accessToken, body: { lessonIds: [lesson.id] } }),
      403,
      "FORBIDDEN",
    );
  });

  it("gives one lesson its text as sanitised HTML, headings below the page's h1, and no script or javascript: link", async () => {
    const courseId = await publishedCourse();
    const mod = await addModule(courseId);
    const lesson = await addLesson(mod, { body: "# Stars\n\nStars are **suns**. <script>alert(1)</script> [x](javascript:alert(1)) [y](https://example.test/)" });
    const learner = await enrolledLearner(courseId);
    const body = await expectJson<{ body: string; bodyHtml: string }>(await getLesson(lesson.id, learner.accessToken), 200);
    expect(body.body).toContain("# Stars");
    expect(body.bodyHtml).toContain("<h2>Stars</h2>");
    expect(body.bodyHtml).not.toContain("<h1");
    expect(body.bodyHtml).toContain("<strong>suns</strong>");
    expect(body.bodyHtml).not.toContain("<script");
    // The refused link stays as its text; nothing links to it.
    expect(body.bodyHtml).not.toMatch(/href="javascript:/i);
    expect(body.bodyHtml).toContain("&lt;script&gt;");
    expect(body.bodyHtml).toContain('<a href="https://example.test/" rel="ugc nofollow noopener noreferrer">y</a>');
  });

  it("hides hidden modules and lessons from learners but not from staff", async () => {
    const courseId = await publishedCourse();
    const [shown, secret] = [await addModule(courseId, "Shown"), await addModule(courseId, "Secret")];
    const visible = await addLesson(shown, { title: "Visible" });
    const hiddenLesson = await addLesson(shown, { title: "Hidden" });
    const inSecret = await addLesson(secret, { title: "In secret" });
    const learner = await enrolledLearner(courseId);

    const hidModule = await ok<Module>(await call(app, "PATCH", `/v1/courses/${courseId}/modules/${secret.id}`, { token: instructor.accessToken, body: { hidden: true } }));
    expect(hidModule.hidden).toBe(true);
    expect((await ok<Lesson>(await patchLesson(hiddenLesson.id, { hidden: true }))).hidden).toBe(true);

    const mine = await outline(courseId, learner.accessToken);
    expect(mine.map((m) => m.title)).toEqual(["Shown"]);
    expect(mine[0]?.lessons?.map((l) => l.title)).toEqual(["Visible"]);
    const listed = await ok<{ items: Lesson[] }>(await call(app, "GET", `/v1/courses/${courseId}/modules/${shown.id}/lessons`, { token: learner.accessToken }));
    expect(listed.items.map((l) => l.id)).toEqual([visible.id]);
    await expectProblem(await call(app, "GET", `/v1/courses/${courseId}/modules/${secret.id}/lessons`, { token: learner.accessToken }), 404, "MODULE_NOT_FOUND");
    await expectProblem(await getLesson(hiddenLesson.id, learner.accessToken), 404, "LESSON_NOT_FOUND");
    await expectProblem(await getLesson(inSecret.id, learner.accessToken), 404, "LESSON_NOT_FOUND");
    await expectProblem(await complete(hiddenLesson.id, learner.accessToken), 404, "LESSON_NOT_FOUND");

    const staff = await outline(courseId, instructor.accessToken);
    expect(staff.map((m) => [m.title, m.hidden])).toEqual([["Shown", false], ["Secret", true]]);
    expect(staff[0]?.lessons?.map((l) => [l.title, l.hidden])).toEqual([["Visible", false], ["Hidden", true]]);
    expect((await ok<Lesson>(await getLesson(inSecret.id, instructor.accessToken))).title).toBe("In secret");

    // Shown again, it is back for the learner.
    await ok(await patchLesson(hiddenLesson.id, { hidden: false }));
    expect((await ok<Lesson>(await getLesson(hiddenLesson.id, learner.accessToken))).body).toBe("# Hello");
  });

  it("refuses to complete a lesson inside a hidden module, as it refuses to show it", async () => {
    const courseId = await publishedCourse();
    const secret = await addModule(courseId, "Secret");
    const lesson = await addLesson(secret);
    const learner = await enrolledLearner(courseId);
    await ok(await call(app, "PATCH", `/v1/courses/${courseId}/modules/${secret.id}`, { token: instructor.accessToken, body: { hidden: true } }));
    await expectProblem(await getLesson(lesson.id, learner.accessToken), 404, "LESSON_NOT_FOUND");
    await expectProblem(await complete(lesson.id, learner.accessToken), 404, "LESSON_NOT_FOUND");
  });

  it("shows a lesson that unlocks later without its content, and refuses to complete it", async () => {
    const courseId = await publishedCourse();
    const mod = await addModule(courseId);
    const later = await addLesson(mod, { title: "Later", body: "Secret text", unlockAt: new Date(Date.now() + 86_400_000).toISOString() });
    const link = await addLesson(mod, { title: "Later link", kind: "link", url: "https://example.com/later", body: undefined, unlockAt: new Date(Date.now() + 86_400_000).toISOString() });
    const earlier = await addLesson(mod, { title: "Earlier", body: "Open text", unlockAt: new Date(Date.now() - 60_000).toISOString() });
    const learner = await enrolledLearner(courseId);

    const lessons = (await outline(courseId, learner.accessToken))[0]?.lessons ?? [];
    expect(lessons.map((l) => [l.title, l.locked, l.body, l.url])).toEqual([
      ["Later", "unlocks-later", null, null],
      ["Later link", "unlocks-later", null, null],
      ["Earlier", null, "Open text", null],
    ]);
    const one = await ok<Lesson>(await getLesson(later.id, learner.accessToken));
    expect(one).toMatchObject({ locked: "unlocks-later", body: null, completed: false });
    expect(JSON.stringify(one)).not.toContain("Secret text");
    expect((await ok<Lesson>(await getLesson(link.id, learner.accessToken))).url).toBeNull();

    const refused = await expectProblem(await complete(later.id, learner.accessToken), 403, "LESSON_LOCKED");
    expect(JSON.stringify(refused)).toContain("unlocks-later");
    await ok(await complete(earlier.id, learner.accessToken));
    // Staff see everything, unlocked.
    expect(await ok<Lesson>(await getLesson(later.id, instructor.accessToken))).toMatchObject({ locked: null, body: "Secret text" });

    // Moving the unlock time into the past opens it.
    await ok(await patchLesson(later.id, { unlockAt: new Date(Date.now() - 1000).toISOString() }));
    expect(await ok<Lesson>(await getLesson(later.id, learner.accessToken))).toMatchObject({ locked: null, body: "Secret text" });
    await ok(await complete(later.id, learner.accessToken));
  });

  it("locks lessons behind earlier required ones when the course is sequential", async () => {
    const courseId = await publishedCourse();
    const [m1, m2] = [await addModule(courseId, "M1"), await addModule(courseId, "M2")];
    const a = await addLesson(m1, { title: "a" });
    const b = await addLesson(m1, { title: "b (optional)", required: false });
    const c = await addLesson(m1, { title: "c" });
    const d = await addLesson(m2, { title: "d" });
    const learner = await enrolledLearner(courseId);
    expect(Object.values(locks(await outline(courseId, learner.accessToken)))).toEqual([null, null, null, null]);

    // Turn sequential progress on, conditionally on the course as read.
    const read = await call(app, "GET", `/v1/courses/${courseId}`, { token: instructor.accessToken });
    const etag = read.headers.get("etag") as string;
    expect(etag).toBeTruthy();
    const patched = await call(app, "PATCH", `/v1/courses/${courseId}`, { token: instructor.accessToken, body: { sequentialProgress: true }, headers: { "if-match": etag } });
    expect((await ok<{ sequentialProgress: boolean }>(patched)).sequentialProgress).toBe(true);
    await expectProblem(
      await call(app, "PATCH", `/v1/courses/${courseId}`, { token: instructor.accessToken, body: { sequentialProgress: false }, headers: { "if-match": etag } }),
      412,
      "PRECONDITION_FAILED",
    );

    expect(locks(await outline(courseId, learner.accessToken))).toEqual({
      a: null,
      "b (optional)": "earlier-lessons-first",
      c: "earlier-lessons-first",
      d: "earlier-lessons-first",
    });
    expect(await ok<Lesson>(await getLesson(c.id, learner.accessToken))).toMatchObject({ locked: "earlier-lessons-first", body: null });
    const refused = await expectProblem(await complete(d.id, learner.accessToken), 403, "LESSON_LOCKED");
    expect(JSON.stringify(refused)).toContain("earlier-lessons-first");

    await ok(await complete(a.id, learner.accessToken));
    // b is not required: it does not hold c back.
    expect(locks(await outline(courseId, learner.accessToken))).toEqual({ a: null, "b (optional)": null, c: null, d: "earlier-lessons-first" });
    await ok(await complete(c.id, learner.accessToken));
    expect(locks(await outline(courseId, learner.accessToken))).toEqual({ a: null, "b (optional)": null, c: null, d: null });
    expect(await ok<Lesson>(await getLesson(d.id, learner.accessToken))).toMatchObject({ locked: null, body: "# Hello" });
    await ok(await complete(d.id, learner.accessToken));
    expect(await ok<Lesson>(await getLesson(b.id, learner.accessToken))).toMatchObject({ locked: null, completed: false });

    // Another learner starts from the beginning; staff are never locked.
    const other = await enrolledLearner(courseId);
    expect(locks(await outline(courseId, other.accessToken)).d).toBe("earlier-lessons-first");
    expect(Object.values(locks(await outline(courseId, instructor.accessToken)))).toEqual([null, null, null, null]);
  });

  it("records a completion once, with one lesson.completed event, however often it is repeated", async () => {
    const courseId = await publishedCourse();
    const mod = await addModule(courseId);
    const lesson = await addLesson(mod);
    const learner = await enrolledLearner(courseId);
    const first = await ok<{ lessonId: string; completedAt: string }>(await complete(lesson.id, learner.accessToken));
    expect(first.lessonId).toBe(lesson.id);
    const again = await ok<{ completedAt: string }>(await complete(lesson.id, learner.accessToken));
    expect(again.completedAt).toBe(first.completedAt);
    const racing = await Promise.all([complete(lesson.id, learner.accessToken), complete(lesson.id, learner.accessToken)]);
    expect(racing.map((r) => r.status)).toEqual([200, 200]);

    const events = await db.sql`select data from outbox where type = 'lesson.completed' and aggregate_id = ${lesson.id}`;
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({ lessonId: lesson.id, courseId, userId: learner.id });
    const [rows] = await db.sql`select count(*)::int as n from lesson_completions where lesson_id = ${lesson.id}`;
    expect(rows?.n).toBe(1);
    expect((await ok<Lesson>(await getLesson(lesson.id, learner.accessToken))).completed).toBe(true);
  });
});

describe("changing and deleting lessons", () => {
  it("deletes a lesson no learner worked in, and refuses one with a completion (hide it instead)", async () => {
    const courseId = await publishedCourse();
    const mod = await addModule(courseId);
    const [worked, untouched] = [await addLesson(mod, { title: "Worked" }), await addLesson(mod, { title: "Untouched" })];
    const learner = await enrolledLearner(courseId);
    await ok(await complete(worked.id, learner.accessToken));

    await expectProblem(await call(app, "DELETE", `/v1/lessons/${worked.id}`, { token: instructor.accessToken }), 409, "CONTENT_HAS_LEARNER_WORK");
    expect((await ok<Lesson>(await getLesson(worked.id, learner.accessToken))).completed).toBe(true);
    expect((await ok<Lesson>(await patchLesson(worked.id, { hidden: true }))).hidden).toBe(true);

    const deleted = await call(app, "DELETE", `/v1/lessons/${untouched.id}`, { token: instructor.accessToken });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe("");
    await expectProblem(await getLesson(untouched.id, instructor.accessToken), 404, "NOT_FOUND");
    await expectProblem(await call(app, "DELETE", `/v1/lessons/${untouched.id}`, { token: instructor.accessToken }), 404, "NOT_FOUND");
    expect((await outline(courseId, instructor.accessToken))[0]?.lessons?.map((l) => l.title)).toEqual(["Worked"]);
  });

  it("updates a lesson conditionally: ETag, 304 and 412 on a stale If-Match", async () => {
    const courseId = await publishedCourse();
    const mod = await addModule(courseId);
    const lesson = await addLesson(mod);
    const read = await getLesson(lesson.id, instructor.accessToken);
    const etag = read.headers.get("etag") as string;
    expect(etag).toMatch(/^".+"$/);
    expect((await getLesson(lesson.id, instructor.accessToken, { "if-none-match": etag })).status).toBe(304);

    const changed = await patchLesson(lesson.id, { title: "Renamed", body: "New body" }, { "if-match": etag });
    const body = await ok<Lesson>(changed);
    expect(body).toMatchObject({ title: "Renamed", body: "New body", version: lesson.version + 1 });
    const fresh = changed.headers.get("etag") as string;
    expect(fresh).not.toBe(etag);

    const stale = await expectProblem(await patchLesson(lesson.id, { title: "Lost update" }, { "if-match": etag }), 412, "PRECONDITION_FAILED");
    expect(stale.code).toBe("PRECONDITION_FAILED");
    expect((await ok<Lesson>(await getLesson(lesson.id, instructor.accessToken))).title).toBe("Renamed");
    expect((await ok<Lesson>(await patchLesson(lesson.id, { title: "Third" }, { "if-match": fresh }))).title).toBe("Third");
  });

  it("changes a lesson's ETag when a reorder moves it", async () => {
    const courseId = await publishedCourse();
    const mod = await addModule(courseId);
    const [first, second] = [await addLesson(mod, { title: "First" }), await addLesson(mod, { title: "Second" })];
    const etag = (await getLesson(first.id, instructor.accessToken)).headers.get("etag") as string;
    await ok(await call(app, "POST", `/v1/courses/${courseId}/modules/${mod.id}/lessons/reorder`, { token: instructor.accessToken, body: { lessonIds: [second.id, first.id] } }));
    const after = await getLesson(first.id, instructor.accessToken, { "if-none-match": etag });
    // Its position changed from 1 to 2: a 304 would leave a client with the old position.
    expect(after.status).toBe(200);
    expect((await ok<Lesson>(after)).position).toBe(2);
  });
});

describe("lesson files", () => {
  const pdf = () => new Uint8Array(Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(2048)]));

  async function fileLesson(settings: Record<string, unknown> = {}) {
    const courseId = await publishedCourse();
    const mod = await addModule(courseId);
    const lesson = await addLesson(mod, { title: "Handout", kind: "file", body: undefined, ...settings });
    return { courseId, mod, lesson };
  }

  async function grantFor(lessonId: string, bytes: Uint8Array, contentType = "application/pdf", fileName = "handout.pdf") {
    const res = await requestUpload(lessonId, { fileName, contentType, sizeBytes: bytes.byteLength });
    expect(res.headers.get("cache-control")).toBe("no-store");
    return ok<Grant>(res, 201);
  }

  it("uploads through a write-only grant, confirms, and serves the exact bytes to enrolled learners", async () => {
    const { courseId, lesson } = await fileLesson();
    const bytes = pdf();
    const grant = await grantFor(lesson.id, bytes);
    expect(grant.method).toBe("PUT");
    expect(grant.blobName).toMatch(new RegExp(`^courses/${courseId}/lessons/${lesson.id}/[0-9a-f-]{36}\\.pdf$`));
    expect(grant.headers).toMatchObject({ "x-ms-blob-type": "BlockBlob", "content-type": "application/pdf" });
    expect(new Date(grant.expiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(new Date(grant.expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 16 * 60_000);
    expect(decodeURIComponent(new URL(grant.url).pathname)).toContain(grant.blobName);

    expect((await put(grant, bytes)).status).toBe(201);
    // The upload URL writes; it does not read.
    const peek = await fetch(grant.url);
    expect(peek.status).toBe(403);
    expect(Buffer.from(await peek.arrayBuffer()).includes(Buffer.from(bytes))).toBe(false);

    const confirmed = await ok<Lesson>(await confirmUpload(lesson.id));
    expect(confirmed.file).toMatchObject({ name: "handout.pdf", contentType: "application/pdf", sizeBytes: bytes.byteLength, status: "ready" });

    const learner = await enrolledLearner(courseId);
    const seen = await ok<Lesson>(await getLesson(lesson.id, learner.accessToken));
    expect(seen.file?.status).toBe("ready");
    const downloadUrl = seen.file?.downloadUrl as string;
    expect(downloadUrl).toBeTruthy();
    expect(new Date(seen.file?.downloadUrlExpiresAt as string).getTime()).toBeLessThanOrEqual(Date.now() + 16 * 60_000);
    const download = await fetch(downloadUrl);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    expect(download.headers.get("content-type")).toBe("application/pdf");
    expect(download.headers.get("content-disposition")).toBe('attachment; filename="handout.pdf"');
    // The read URL cannot write.
    expect((await fetch(downloadUrl, { method: "PUT", headers: grant.headers, body: new Uint8Array([1]) })).status).toBe(403);
    const listed = (await outline(courseId, learner.accessToken))[0]?.lessons?.[0];
    expect(listed?.file?.downloadUrl).toBeTruthy();
    // The blob itself is private: no SAS, no bytes.
    expect((await fetch(downloadUrl.split("?")[0] as string)).status).not.toBe(200);
  });

  it("refuses to confirm before anything was uploaded with FILE_NOT_UPLOADED", async () => {
    const { lesson } = await fileLesson();
    await expectProblem(await confirmUpload(lesson.id), 409, "FILE_NOT_UPLOADED");
    await grantFor(lesson.id, pdf());
    await expectProblem(await confirmUpload(lesson.id), 409, "FILE_NOT_UPLOADED");
    expect((await ok<Lesson>(await getLesson(lesson.id, instructor.accessToken))).file?.status).toBe("awaiting-upload");
  });

  it("refuses an upload whose size or type differs from the declaration with FILE_MISMATCH", async () => {
    const { courseId, lesson } = await fileLesson();
    const bytes = pdf();
    const grant = await grantFor(lesson.id, bytes);
    const learner = await enrolledLearner(courseId);

    expect((await put(grant, Buffer.concat([Buffer.from(bytes), Buffer.from("extra")]))).status).toBe(201);
    const size = await expectProblem(await confirmUpload(lesson.id), 422, "FILE_MISMATCH");
    expect(String(size.detail)).toMatch(/size/);

    // A grant creates its blob once: a second try needs a fresh grant.
    expect((await put(grant, bytes)).status).toBe(403);
    expect((await put(await grantFor(lesson.id, bytes), bytes, { "content-type": "text/html" })).status).toBe(201);
    const type = await expectProblem(await confirmUpload(lesson.id), 422, "FILE_MISMATCH");
    expect(String(type.detail)).toMatch(/content type/);

    // Nothing unchecked reaches learners.
    expect((await ok<Lesson>(await getLesson(lesson.id, learner.accessToken))).file).toMatchObject({ status: "awaiting-upload", downloadUrl: null });

    // A fresh grant and the right bytes put it right.
    expect((await put(await grantFor(lesson.id, bytes), bytes)).status).toBe(201);
    expect((await ok<Lesson>(await confirmUpload(lesson.id))).file?.status).toBe("ready");
    const download = await fetch((await ok<Lesson>(await getLesson(lesson.id, learner.accessToken))).file?.downloadUrl as string);
    expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });

  it("refuses unsupported types, bad sizes, lessons that are not files, and learners", async () => {
    const { courseId, mod, lesson } = await fileLesson();
    for (const contentType of ["application/x-msdownload", "text/html", "image/svg", "application/pdf; charset=utf-8", ""]) {
      await expectValidationProblem(await requestUpload(lesson.id, { fileName: "x.bin", contentType, sizeBytes: 10 }), "body.contentType");
    }
    for (const sizeBytes of [0, -1, 1.5, 3 * 1024 ** 3]) {
      await expectProblem(await requestUpload(lesson.id, { fileName: "x.pdf", contentType: "application/pdf", sizeBytes }), 400, "VALIDATION_FAILED");
    }
    await expectProblem(await requestUpload(lesson.id, { fileName: "", contentType: "application/pdf", sizeBytes: 1 }), 400, "VALIDATION_FAILED");

    const text = await addLesson(mod);
    await expectProblem(await requestUpload(text.id, { fileName: "x.pdf", contentType: "application/pdf", sizeBytes: 1 }), 409, "LESSON_NOT_A_FILE");
    await expectProblem(await confirmUpload(text.id), 409, "LESSON_NOT_A_FILE");

    const learner = await enrolledLearner(courseId);
    await expectProblem(await requestUpload(lesson.id, { fileName: "x.pdf", contentType: "application/pdf", sizeBytes: 1 }, learner.accessToken), 403, "FORBIDDEN");
    await expectProblem(await confirmUpload(lesson.id, learner.accessToken), 403, "FORBIDDEN");
    const [row] = await db.sql`select file_blob_name from lessons where id = ${lesson.id}`;
    expect(row?.file_blob_name).toBeNull();
  });

  it("chooses the blob name itself, whatever the file is called", async () => {
    const { courseId, lesson } = await fileLesson();
    const bytes = pdf();
    const grants = [
      await grantFor(lesson.id, bytes, "application/pdf", "../../../courses/other/evil.pdf"),
      await grantFor(lesson.id, bytes, "text/plain", "notes"),
      await grantFor(lesson.id, bytes, "video/mp4", "lecture one.MP4"),
    ];
    const prefix = `courses/${courseId}/lessons/${lesson.id}/`;
    for (const g of grants) {
      expect(g.blobName.startsWith(prefix)).toBe(true);
      expect(g.blobName.slice(prefix.length)).toMatch(/^[0-9a-f-]{36}(\.[a-z0-9]+)?$/);
    }
    expect(grants.map((g) => g.blobName.slice(prefix.length).replace(/^[0-9a-f-]{36}/, ""))).toEqual([".pdf", "", ".mp4"]);
    expect(new Set(grants.map((g) => g.blobName)).size).toBe(3);
    // The latest declaration is the one on record, its file name kept for the download.
    expect((await ok<Lesson>(await getLesson(lesson.id, instructor.accessToken))).file).toMatchObject({ name: "lecture one.MP4", contentType: "video/mp4" });
  });

  it("keeps a confirmed file from being replaced, unchecked, through its upload grant", async () => {
    const { courseId, lesson } = await fileLesson();
    const bytes = pdf();
    const grant = await grantFor(lesson.id, bytes);
    expect((await put(grant, bytes)).status).toBe(201);
    await ok(await confirmUpload(lesson.id));
    const learner = await enrolledLearner(courseId);
    // The grant is still within its lifetime; whatever storage answers, learners must keep getting what was checked.
    await put(grant, new TextEncoder().encode("<script>alert(1)</script>"), { "content-type": "text/html" });
    const download = await fetch((await ok<Lesson>(await getLesson(lesson.id, learner.accessToken))).file?.downloadUrl as string);
    expect(download.headers.get("content-type")).toBe("application/pdf");
    expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });

  it("gives no download URL while a file lesson is locked", async () => {
    const { courseId, lesson } = await fileLesson({ unlockAt: new Date(Date.now() + 86_400_000).toISOString() });
    const bytes = pdf();
    const grant = await grantFor(lesson.id, bytes);
    expect((await put(grant, bytes)).status).toBe(201);
    await ok(await confirmUpload(lesson.id));
    const learner = await enrolledLearner(courseId);
    const seen = await ok<Lesson>(await getLesson(lesson.id, learner.accessToken));
    expect(seen).toMatchObject({ locked: "unlocks-later", file: { status: "ready", downloadUrl: null, downloadUrlExpiresAt: null } });
    expect(JSON.stringify(await outline(courseId, learner.accessToken))).not.toContain("sig=");
    // Staff can always fetch it.
    const staffUrl = (await ok<Lesson>(await getLesson(lesson.id, instructor.accessToken))).file?.downloadUrl as string;
    expect((await fetch(staffUrl)).status).toBe(200);
  });

  it("changes a file lesson's ETag when a new upload is requested", async () => {
    const { lesson } = await fileLesson();
    const bytes = pdf();
    const grant = await grantFor(lesson.id, bytes);
    expect((await put(grant, bytes)).status).toBe(201);
    await ok(await confirmUpload(lesson.id));
    const etag = (await getLesson(lesson.id, instructor.accessToken)).headers.get("etag") as string;
    // A new declaration changes the file's name, type, size and status.
    await grantFor(lesson.id, new Uint8Array(10), "text/plain", "notes.txt");
    const after = await getLesson(lesson.id, instructor.accessToken, { "if-none-match": etag });
    expect(after.status).toBe(200);
    expect((await ok<Lesson>(after)).file).toMatchObject({ name: "notes.txt", status: "awaiting-upload" });
    // And an update based on the old read is stale.
    await expectProblem(await patchLesson(lesson.id, { title: "Renamed" }, { "if-match": etag }), 412, "PRECONDITION_FAILED");
  });
});
