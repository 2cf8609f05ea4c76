import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import type { FileStore } from "../../../domain/catalog/file-store.js";
import { courseContentFor, lessonFor, moduleLessonsFor } from "../../../domain/catalog/lesson-view.js";
import type { CourseViewer } from "../../../domain/catalog/viewer.js";
import type { CourseRole } from "../../../domain/db/schema/index.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { createCourse } from "../../support/identity.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const now = new Date();
const viewer = (userId: string, role: CourseRole | null = null, isAdmin = false): CourseViewer => ({ userId, isAdmin, roleIn: async () => role });

/** A file store that signs read URLs and remembers which blobs it signed. */
function signingStore() {
  const signed: string[] = [];
  const store: FileStore = {
    uploadUrl: () => Promise.reject(new Error("not in this test")),
    downloadUrl: (blobName, _ttl, _name, options) => {
      signed.push(blobName);
      return Promise.resolve({ url: `https://files.test/${blobName}${options?.inline ? "?inline" : ""}`, expiresAt: now });
    },
    stat: () => Promise.reject(new Error("not in this test")),
  };
  return { store, signed };
}

/**
 * A sequential course: module A (a1, a2 hidden, a3 a ready file), module B (b1 a ready file), module C hidden (c1),
 * and a learner who completed a1.
 */
async function course() {
  const courseId = await createCourse(db);
  await db.sql`update courses set sequential_progress = true where id = ${courseId}`;
  const userId = uuidv7();
  await db.sql`insert into users (id, email, display_name) values (${userId}, ${`${userId}@example.test`}, 'L')`;
  const ids: Record<string, string> = {};
  const modules: [string, number, boolean][] = [
    ["A", 1, false],
    ["B", 2, false],
    ["C", 3, true],
  ];
  for (const [title, position, hidden] of modules) {
    ids[title] = uuidv7();
    await db.sql`insert into modules (id, course_id, title, position, hidden_at) values (${ids[title] as string}, ${courseId}, ${title}, ${position}, ${hidden ? now.toISOString() : null}::timestamptz)`;
  }
  const lessons: [string, string, number, { hidden?: boolean; file?: boolean }][] = [
    ["a1", "A", 1, {}],
    ["a2", "A", 2, { hidden: true }],
    ["a3", "A", 3, { file: true }],
    ["b1", "B", 1, { file: true }],
    ["c1", "C", 1, {}],
  ];
  for (const [title, mod, position, o] of lessons) {
    ids[title] = uuidv7();
    await db.sql`insert into lessons (id, module_id, course_id, title, kind, position, body, hidden_at, file_blob_name, file_name, file_status)
      values (${ids[title] as string}, ${ids[mod] as string}, ${courseId}, ${title}, ${o.file ? "file" : "text"}, ${position}, ${o.file ? null : "x"},
        ${o.hidden ? now.toISOString() : null}::timestamptz, ${o.file ? `courses/${courseId}/${title}.pdf` : null}, ${o.file ? `${title}.pdf` : null}, ${o.file ? "ready" : null})`;
  }
  await db.sql`insert into lesson_completions (lesson_id, user_id, course_id) values (${ids.a1 as string}, ${userId}, ${courseId})`;
  return { courseId, userId, ids, id: (title: string) => ids[title] as string };
}

describe("courseContentFor", () => {
  it("shows a learner what is not hidden, with their locks and completions, and file links only for open lessons", async () => {
    const c = await course();
    const { store, signed } = signingStore();
    const content = await courseContentFor(db.db, store, c.courseId, viewer(c.userId), now);
    expect(content.map((m) => [m.module.title, m.lessons.map((l) => [l.lesson.title, l.locked, l.completed, l.download?.url ?? null])])).toEqual([
      [
        "A",
        [
          ["a1", null, true, null],
          ["a3", null, false, `https://files.test/courses/${c.courseId}/a3.pdf`],
        ],
      ],
      ["B", [["b1", "earlier-lessons-first", false, null]]],
    ]);
    expect(signed).toEqual([`courses/${c.courseId}/a3.pdf`]);
  });

  it("shows staff and admins everything, open, with no completion of their own", async () => {
    const c = await course();
    for (const who of [viewer(uuidv7(), "grader"), viewer(uuidv7(), null, true)]) {
      const content = await courseContentFor(db.db, signingStore().store, c.courseId, who, now);
      expect(content.map((m) => [m.module.title, m.lessons.map((l) => l.lesson.title)])).toEqual([
        ["A", ["a1", "a2", "a3"]],
        ["B", ["b1"]],
        ["C", ["c1"]],
      ]);
      expect(content.flatMap((m) => m.lessons).every((l) => l.locked === null && l.completed === null)).toBe(true);
      expect(content.flatMap((m) => m.lessons).filter((l) => l.download).map((l) => l.lesson.title)).toEqual(["a3", "b1"]);
    }
  });
});

describe("moduleLessonsFor", () => {
  it("locks a module's lessons by the modules before it, and signs only that module's files", async () => {
    const c = await course();
    const { store, signed } = signingStore();
    const lessons = await moduleLessonsFor(db.db, store, { courseId: c.courseId, moduleId: c.id("B") }, viewer(c.userId), now);
    expect(lessons.ok && lessons.value.map((l) => [l.lesson.title, l.locked])).toEqual([["b1", "earlier-lessons-first"]]);
    expect(signed).toEqual([]);
  });

  it("does not find a hidden module for a learner, nor another course's module for anyone", async () => {
    const c = await course();
    const other = await course();
    const { store } = signingStore();
    expect(await moduleLessonsFor(db.db, store, { courseId: c.courseId, moduleId: c.id("C") }, viewer(c.userId), now)).toMatchObject({ ok: false, error: { code: "MODULE_NOT_FOUND" } });
    expect(await moduleLessonsFor(db.db, store, { courseId: c.courseId, moduleId: other.id("A") }, viewer(uuidv7(), "instructor"), now)).toMatchObject({ ok: false, error: { code: "MODULE_NOT_FOUND" } });
    const hiddenForStaff = await moduleLessonsFor(db.db, store, { courseId: c.courseId, moduleId: c.id("C") }, viewer(uuidv7(), "instructor"), now);
    expect(hiddenForStaff.ok && hiddenForStaff.value.map((l) => l.lesson.title)).toEqual(["c1"]);
  });
});

describe("lessonFor", () => {
  it("gives a learner the lesson with its lock and their completion; hidden ones are not found", async () => {
    const c = await course();
    const { store } = signingStore();
    const done = await lessonFor(db.db, store, c.id("a1"), viewer(c.userId), now);
    expect(done.ok && { locked: done.value.view.locked, completed: done.value.view.completed, asStaff: done.value.asStaff }).toEqual({ locked: null, completed: true, asStaff: false });
    const held = await lessonFor(db.db, store, c.id("b1"), viewer(c.userId), now);
    expect(held.ok && [held.value.view.locked, held.value.view.completed, held.value.view.download]).toEqual(["earlier-lessons-first", false, null]);
    for (const hidden of ["a2", "c1"]) expect(await lessonFor(db.db, store, c.id(hidden), viewer(c.userId), now)).toMatchObject({ ok: false, error: { code: "LESSON_NOT_FOUND" } });
    expect(await lessonFor(db.db, store, uuidv7(), viewer(c.userId), now)).toMatchObject({ ok: false, error: { code: "LESSON_NOT_FOUND" } });
  });

  it("gives staff any lesson of their course, open, with its file link", async () => {
    const c = await course();
    const { store } = signingStore();
    for (const title of ["a2", "c1", "b1"]) {
      const found = await lessonFor(db.db, store, c.id(title), viewer(uuidv7(), "grader"), now);
      expect(found.ok && [found.value.asStaff, found.value.view.locked, found.value.view.completed]).toEqual([true, null, null]);
    }
    const file = await lessonFor(db.db, store, c.id("b1"), viewer(uuidv7(), "grader"), now);
    expect(file.ok && file.value.view.download?.url).toBe(`https://files.test/courses/${c.courseId}/b1.pdf`);
    // Not declared a PDF: no inline URL.
    expect(file.ok && file.value.view.download?.viewUrl).toBeNull();
  });

  it("gives a PDF an inline read URL beside the download one, for showing it in a frame", async () => {
    const c = await course();
    await db.sql`update lessons set file_content_type = 'application/pdf' where id = ${c.id("b1")}`;
    const { store } = signingStore();
    const file = await lessonFor(db.db, store, c.id("b1"), viewer(uuidv7(), "grader"), now);
    expect(file.ok && file.value.view.download).toMatchObject({ url: `https://files.test/courses/${c.courseId}/b1.pdf`, viewUrl: `https://files.test/courses/${c.courseId}/b1.pdf?inline` });
  });
});
