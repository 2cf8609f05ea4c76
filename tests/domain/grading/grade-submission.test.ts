import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { gradeSubmission, recordGrade, submitManualScores } from "../../../domain/grading/grade-submission.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { openDomainDatabase } from "../../support/domain-database.js";
import { createCourse } from "../../support/identity.js";

let db: TestDatabase;
let ctx: DomainContext;
let learnerId: string;
let courseId: string;

beforeAll(async () => {
  ({ db, ctx } = await openDomainDatabase());
  learnerId = uuidv7();
  await db.sql`insert into users (id, email, display_name) values (${learnerId}, ${`l-${learnerId}@example.test`}, 'Learner')`;
  courseId = await createCourse(db);
});
afterAll(() => db?.drop());

async function submission(items: unknown[], keys: unknown, answers: unknown): Promise<string> {
  const assessmentId = uuidv7();
  const attemptId = uuidv7();
  await db.sql`insert into assessments (id, course_id, title, kind, items, due_at) values (${assessmentId}, ${courseId}, 'Q', 'quiz', ${JSON.stringify(items)}::jsonb, now() + interval '1 day')`;
  await db.sql`insert into assessment_keys (assessment_id, version, keys) values (${assessmentId}, 1, ${JSON.stringify(keys)}::jsonb)`;
  await db.sql`insert into attempts (id, assessment_id, course_id, user_id, number, status, started_at, submitted_at, submitted_by, answers)
    values (${attemptId}, ${assessmentId}, ${courseId}, ${learnerId}, 1, 'submitted', now(), now(), 'learner', ${JSON.stringify(answers)}::jsonb)`;
  return attemptId;
}

describe("grading a submission", () => {
  it("grades objective items, records the grade once and publishes it once", async () => {
    const id = await submission(
      [
        { id: "q1", type: "true-false", points: 2, prompt: "" },
        { id: "q2", type: "numeric", points: 2, prompt: "" },
      ],
      { q1: { type: "true-false", correct: true }, q2: { type: "numeric", mode: "exact", value: 7 } },
      { q1: true, q2: 8 },
    );
    const outcome = await gradeSubmission(db.db, id);
    expect(outcome?.grade).toMatchObject({ status: "final", percent: 50 });
    const first = await db.db.transaction((tx) => recordGrade({ ...ctx, db: tx }, outcome as NonNullable<typeof outcome>, 1));
    const again = await db.db.transaction((tx) => recordGrade({ ...ctx, db: tx }, outcome as NonNullable<typeof outcome>, 1));
    expect(first).toMatchObject({ ok: true, value: { first: true } });
    expect(again).toMatchObject({ ok: true, value: { first: false } });
    expect(await db.sql`select 1 from grades where submission_id = ${id}`).toHaveLength(1);
    expect(await db.sql`select 1 from outbox where type = 'grade.published' and aggregate_id = ${id}`).toHaveLength(1);
  });

  it("waits for a grader, then grades with the grader's scores", async () => {
    const id = await submission([{ id: "e", type: "essay", points: 10, prompt: "" }], {}, { e: "my essay" });
    const waiting = await gradeSubmission(db.db, id);
    expect(waiting).toMatchObject({ waitingItems: ["e"], grade: { status: "pending" } });
    expect(await recordGrade(ctx, waiting as NonNullable<typeof waiting>, 1)).toMatchObject({ ok: false, error: { code: "GRADE_PENDING" } });
    expect(await submitManualScores(ctx, id, [{ itemId: "e", points: 11, feedback: "" }])).toMatchObject({ ok: false, error: { code: "INVALID_ANSWER" } });
    expect(await submitManualScores(ctx, id, [{ itemId: "e", points: 8, feedback: "Good" }])).toEqual({ ok: true, value: { waitingItems: [] } });
    expect((await gradeSubmission(db.db, id))?.grade).toMatchObject({ status: "final", percent: 80 });
  });
});
