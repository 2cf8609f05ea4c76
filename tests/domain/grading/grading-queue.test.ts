import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { gradingQueue } from "../../../domain/grading/grading-queue.js";
import type { TestDatabase } from "../../support/database.js";
import { openDomainDatabase } from "../../support/domain-database.js";
import { createCourse } from "../../support/identity.js";

let db: TestDatabase;

beforeAll(async () => ({ db } = await openDomainDatabase()));
afterAll(() => db?.drop());

describe("gradingQueue", () => {
  it("waits on the manual items an attempt presents: a drawn essay, not the assessment's own when the attempt drew", async () => {
    const courseId = await createCourse(db);
    const learnerId = uuidv7();
    await db.sql`insert into users (id, email, display_name) values (${learnerId}, ${`l-${learnerId}@example.test`}, 'Learner')`;
    const assessmentId = uuidv7();
    await db.sql`insert into assessments (id, course_id, title, kind, items) values (${assessmentId}, ${courseId}, 'Pooled', 'quiz', ${JSON.stringify([{ id: "fixed-essay", type: "essay", points: 1, prompt: "" }])}::jsonb)`;
    const drawnEssay = uuidv7();
    const presented = [{ id: drawnEssay, type: "essay", points: 3, prompt: "", source: { bankId: uuidv7(), itemId: drawnEssay, version: 2 } }];
    const drew = uuidv7();
    const plain = uuidv7();
    await db.sql`insert into attempts (id, assessment_id, course_id, user_id, number, status, started_at, submitted_at, submitted_by, answers, items)
      values (${drew}, ${assessmentId}, ${courseId}, ${learnerId}, 1, 'submitted', now(), now(), 'learner', ${JSON.stringify({ [drawnEssay]: "Because", "fixed-essay": "stale" })}::jsonb, ${JSON.stringify(presented)}::jsonb),
             (${plain}, ${assessmentId}, ${courseId}, ${learnerId}, 2, 'submitted', now() + interval '1 second', now() + interval '1 second', 'learner', ${JSON.stringify({ "fixed-essay": "Text" })}::jsonb, null)`;
    const queue = await gradingQueue(db.db, courseId, { limit: 10, sectionIds: null });
    expect(queue.map((q) => [q.submissionId, q.waitingItems])).toEqual([
      [drew, [drawnEssay]],
      [plain, ["fixed-essay"]],
    ]);
  });
});
