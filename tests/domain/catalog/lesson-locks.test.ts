import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { findLesson } from "../../../domain/catalog/content.js";
import type { FileStore } from "../../../domain/catalog/file-store.js";
import { type LessonPlace, lessonLock, lessonLocks } from "../../../domain/catalog/lesson-locks.js";
import { courseContentFor } from "../../../domain/catalog/lesson-view.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const now = new Date("2030-01-01T12:00:00Z");
const later = new Date("2030-01-02T00:00:00Z");
const place = (id: string, moduleId: string, modulePosition: number, position: number, extra: Partial<LessonPlace> = {}): LessonPlace => ({
  id,
  moduleId,
  modulePosition,
  position,
  required: true,
  unlockAt: null,
  ...extra,
});

describe("lessonLocks", () => {
  const m1 = "m1";
  const m2 = "m2";
  const lessons = [place("a", m1, 1, 1), place("b", m1, 1, 2, { required: false }), place("c", m1, 1, 3), place("d", m2, 2, 1)];

  it("opens everything in a course that is not sequential, but an unlock time ahead still locks", () => {
    const lockOf = lessonLocks(lessons, new Set(), false, now);
    expect(lessons.map(lockOf)).toEqual([null, null, null, null]);
    expect(lockOf(place("e", m2, 2, 2, { unlockAt: later }))).toBe("unlocks-later");
  });

  it("holds lessons behind earlier required ones, in the module and in earlier modules, not behind optional or later ones", () => {
    expect(lessons.map(lessonLocks(lessons, new Set(), true, now))).toEqual([null, "earlier-lessons-first", "earlier-lessons-first", "earlier-lessons-first"]);
    expect(lessons.map(lessonLocks(lessons, new Set(["a"]), true, now))).toEqual([null, null, null, "earlier-lessons-first"]);
    expect(lessons.map(lessonLocks(lessons, new Set(["a", "c"]), true, now))).toEqual([null, null, null, null]);
    // A later lesson left undone holds nothing before it.
    expect(lessons.map(lessonLocks(lessons, new Set(["a", "c"]).add("x"), true, now))).toEqual([null, null, null, null]);
  });

  it("says unlocks-later before earlier-lessons-first", () => {
    expect(lessonLocks(lessons, new Set(), true, now)(place("c2", m1, 1, 4, { unlockAt: later }))).toBe("unlocks-later");
  });

  it("lets modules at the same position not hold each other back", () => {
    const tied = [place("a", m1, 1, 1), place("b", m2, 1, 1), place("c", "m3", 2, 1)];
    expect(tied.map(lessonLocks(tied, new Set(), true, now))).toEqual([null, null, "earlier-lessons-first"]);
  });
});

/** A deterministic pseudo-random source, so a failing layout can be found again. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const learner = (userId: string) => ({ userId, isAdmin: false, roleIn: async () => null });
const noFiles: FileStore = {
  uploadUrl: () => Promise.reject(new Error("not in this test")),
  downloadUrl: (blobName) => Promise.resolve({ url: `https://files.test/${blobName}`, expiresAt: now }),
  stat: () => Promise.reject(new Error("not in this test")),
};

/** The lock rule as it was written in SQL, one lesson at a time: the oracle the one-pass rule must agree with. */
async function lockBySql(lessonId: string, userId: string): Promise<string | null> {
  const [lesson] = await db.sql<{ course_id: string; module_id: string; position: number; unlocks_later: boolean }[]>`
    select course_id, module_id, position, coalesce(unlock_at > ${now.toISOString()}::timestamptz, false) as unlocks_later from lessons where id = ${lessonId}`;
  if (!lesson) throw new Error("no lesson");
  if (lesson.unlocks_later) return "unlocks-later";
  const [course] = await db.sql<{ sequential: boolean }[]>`select sequential_progress as sequential from courses where id = ${lesson.course_id}`;
  if (!course?.sequential) return null;
  const [pending] = await db.sql<{ n: number }[]>`
    select count(*)::int as n
    from lessons l join modules m on m.id = l.module_id
    join modules mine on mine.id = ${lesson.module_id}
    where l.course_id = ${lesson.course_id} and l.required and l.hidden_at is null and m.hidden_at is null
      and (m.position < mine.position or (m.id = mine.id and l.position < ${lesson.position}))
      and not exists (select 1 from lesson_completions c where c.lesson_id = l.id and c.user_id = ${userId})`;
  return (pending?.n ?? 0) > 0 ? "earlier-lessons-first" : null;
}

/** A course of random shape: tied module positions, hidden modules and lessons, optional lessons, unlock times, completions. */
async function randomCourse(next: () => number) {
  const pick = (p: number) => next() < p;
  const courseId = uuidv7();
  await db.sql`insert into courses (id, title, sequential_progress) values (${courseId}, 'Random', ${pick(0.8)})`;
  const userId = uuidv7();
  await db.sql`insert into users (id, email, display_name) values (${userId}, ${`${userId}@example.test`}, 'L')`;
  const lessonIds: string[] = [];
  const modules = 1 + Math.floor(next() * 4);
  for (let m = 0; m < modules; m++) {
    const moduleId = uuidv7();
    await db.sql`insert into modules (id, course_id, title, position, hidden_at) values (${moduleId}, ${courseId}, ${`M${m}`}, ${1 + Math.floor(next() * 3)}, ${pick(0.15) ? now.toISOString() : null}::timestamptz)`;
    const count = Math.floor(next() * 5);
    for (let l = 0; l < count; l++) {
      const id = uuidv7();
      const unlockAt = pick(0.15) ? later.toISOString() : pick(0.1) ? new Date(now.getTime() - 60_000).toISOString() : null;
      await db.sql`insert into lessons (id, module_id, course_id, title, kind, position, body, required, hidden_at, unlock_at)
        values (${id}, ${moduleId}, ${courseId}, ${`L${m}.${l}`}, 'text', ${l + 1}, 'x', ${pick(0.7)}, ${pick(0.15) ? now.toISOString() : null}::timestamptz, ${unlockAt}::timestamptz)`;
      if (pick(0.4)) await db.sql`insert into lesson_completions (lesson_id, user_id, course_id) values (${id}, ${userId}, ${courseId})`;
      lessonIds.push(id);
    }
  }
  return { courseId, userId, lessonIds };
}

describe("the lock rule over whole courses", () => {
  it("agrees with the per-lesson SQL rule for every lesson of 40 random courses, listed or read one by one", { timeout: 60_000 }, async () => {
    const next = random(20_300_101);
    for (let i = 0; i < 40; i++) {
      const { courseId, userId, lessonIds } = await randomCourse(next);
      const listed = (await courseContentFor(db.db, noFiles, courseId, learner(userId), now)).flatMap((m) => m.lessons);
      for (const view of listed) expect({ lesson: view.lesson.title, locked: view.locked }).toEqual({ lesson: view.lesson.title, locked: await lockBySql(view.lesson.id, userId) });
      // One by one too, hidden lessons and lessons of hidden modules included.
      for (const id of lessonIds) {
        const lesson = await findLesson(db.db, id);
        if (!lesson) throw new Error("no lesson");
        expect({ lesson: lesson.title, locked: await lessonLock(db.db, lesson, userId, now) }).toEqual({ lesson: lesson.title, locked: await lockBySql(id, userId) });
      }
    }
  });
});
