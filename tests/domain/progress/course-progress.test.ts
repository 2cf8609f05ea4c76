import { afterAll, beforeAll, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { computeProgress, updateProgress } from "../../../domain/progress/course-progress.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { openDomainDatabase } from "../../support/domain-database.js";
import { createCourse } from "../../support/identity.js";

let db: TestDatabase;
let ctx: DomainContext;
beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

/** A course with two required lessons and one required assessment, and an enrolled learner. */
async function setup() {
  const courseId = await createCourse(db);
  const userId = uuidv7();
  await db.sql`insert into users (id, email, display_name) values (${userId}, ${`${userId}@example.test`}, 'L')`;
  await db.sql`insert into enrollments (id, course_id, user_id, status, source, enrolled_at) values (${uuidv7()}, ${courseId}, ${userId}, 'active', 'self', now())`;
  const moduleId = uuidv7();
  await db.sql`insert into modules (id, course_id, title, position) values (${moduleId}, ${courseId}, 'M', 1)`;
  const lessons = [uuidv7(), uuidv7()];
  for (const [i, id] of lessons.entries()) {
    await db.sql`insert into lessons (id, module_id, course_id, title, kind, position, body) values (${id}, ${moduleId}, ${courseId}, ${`L${i}`}, 'text', ${i + 1}, 'x')`;
  }
  const assessmentId = uuidv7();
  await db.sql`insert into assessments (id, course_id, title, kind, items, required_for_completion) values (${assessmentId}, ${courseId}, 'Q', 'quiz', '[]'::jsonb, true)`;
  const steps = {
    lesson: (i: number) => db.sql`insert into lesson_completions (lesson_id, user_id, course_id) values (${lessons[i] as string}, ${userId}, ${courseId}) on conflict do nothing`,
    grade: async (percent: number) => {
      const attemptId = uuidv7();
      await db.sql`insert into attempts (id, assessment_id, course_id, user_id, number, status, started_at, submitted_at) values (${attemptId}, ${assessmentId}, ${courseId}, ${userId}, 1, 'submitted', now(), now())`;
      await db.sql`insert into grades (id, submission_id, assessment_id, course_id, user_id, version, key_version, percent, item_scores, explanation)
        values (${uuidv7()}, ${attemptId}, ${assessmentId}, ${courseId}, ${userId}, 1, 1, ${percent}, '[]'::jsonb, '[]'::jsonb)`;
    },
  };
  return { courseId, userId, steps };
}

it("reaches the same progress and one completion whatever order the facts and events arrive in", async () => {
  const orders: ((s: Awaited<ReturnType<typeof setup>>["steps"]) => Promise<unknown>)[][] = [
    [(s) => s.lesson(0), (s) => s.lesson(1), (s) => s.grade(80)],
    [(s) => s.grade(80), (s) => s.lesson(1), (s) => s.lesson(0)],
    [(s) => s.lesson(1), (s) => s.grade(80), (s) => s.lesson(0)],
  ];
  for (const order of orders) {
    const { courseId, userId, steps } = await setup();
    for (const step of order) {
      await step(steps);
      // Each fact's event may arrive twice: recompute twice.
      await db.db.transaction((tx) => updateProgress({ ...ctx, db: tx }, courseId, userId));
      await db.db.transaction((tx) => updateProgress({ ...ctx, db: tx }, courseId, userId));
    }
    const view = await computeProgress(db.db, courseId, userId, new Date());
    expect(view).toMatchObject({ percent: 100, complete: true, next: null });
    expect(await db.sql`select 1 from outbox where type = 'course.completed' and course_id = ${courseId}`).toHaveLength(1);
  }
});

it("does not complete with a failing grade, and counts partial progress", async () => {
  const { courseId, userId, steps } = await setup();
  await steps.lesson(0);
  await steps.grade(40);
  const view = await db.db.transaction((tx) => updateProgress({ ...ctx, db: tx }, courseId, userId));
  expect(view).toMatchObject({ complete: false, percent: 33.33 });
  expect(await db.sql`select 1 from outbox where type = 'course.completed' and course_id = ${courseId}`).toHaveLength(0);
});
