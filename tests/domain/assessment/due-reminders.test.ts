import { afterAll, beforeAll, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { sendDueReminders } from "../../../domain/assessment/due-reminders.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { openDomainDatabase } from "../../support/domain-database.js";
import { createCourse } from "../../support/identity.js";

let db: TestDatabase;
let ctx: DomainContext;
beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

it("reminds each learner with unsubmitted work due in 24 h once, and nobody else", async () => {
  const courseId = await createCourse(db);
  const [pending, done, dropped] = [uuidv7(), uuidv7(), uuidv7()];
  for (const [id, status] of [[pending, "active"], [done, "active"], [dropped, "dropped"]] as const) {
    await db.sql`insert into users (id, email, display_name) values (${id}, ${`${id}@example.test`}, 'L')`;
    await db.sql`insert into enrollments (id, course_id, user_id, status, source) values (${uuidv7()}, ${courseId}, ${id}, ${status}, 'self')`;
  }
  const soon = uuidv7();
  const later = uuidv7();
  for (const [id, hours] of [[soon, 5], [later, 30]] as const) {
    await db.sql`insert into assessments (id, course_id, title, kind, items, due_at) values (${id}, ${courseId}, 'A', 'quiz', '[]'::jsonb, now() + ${`${hours} hours`}::interval)`;
  }
  await db.sql`insert into attempts (id, assessment_id, course_id, user_id, number, status, started_at, submitted_at) values (${uuidv7()}, ${soon}, ${courseId}, ${done}, 1, 'submitted', now(), now())`;
  expect(await sendDueReminders(ctx, 24)).toBe(1);
  expect(await sendDueReminders(ctx, 24)).toBe(0);
  const events = await db.sql`select data from outbox where type = 'reminder.due'`;
  expect(events.map((e) => (e.data as { userId: string; assessmentId: string }))).toEqual([expect.objectContaining({ userId: pending, assessmentId: soon })]);
});
