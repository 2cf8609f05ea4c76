import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { changeAssessment } from "../../../domain/assessment/change-assessment.js";
import { regradeDifferences, regradeSubmission } from "../../../domain/assessment/regrade.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";
import { createCourse } from "../../support/identity.js";

let db: TestDatabase;
let ctx: DomainContext;
let courseId: string;

beforeAll(async () => {
  ({ db, ctx } = await openDomainDatabase());
  courseId = await createCourse(db);
});
afterAll(() => db?.drop());

const inTransaction = <T>(fn: (tx: DomainContext) => Promise<T>) => inTransactionOf(db, ctx)(fn);

/** A one-item quiz whose key said `true`, a learner who answered `false` and was graded 0 with that key, and one still at work. */
async function gradedWithOldKey() {
  const assessmentId = uuidv7();
  await db.sql`insert into assessments (id, course_id, title, kind, items) values (${assessmentId}, ${courseId}, 'Q', 'quiz', ${JSON.stringify([{ id: "q", type: "true-false", points: 1, prompt: "" }])}::jsonb)`;
  await db.sql`insert into assessment_keys (assessment_id, version, keys) values (${assessmentId}, 1, ${JSON.stringify({ q: { type: "true-false", correct: true } })}::jsonb)`;
  const [learner, other] = [uuidv7(), uuidv7()];
  for (const id of [learner, other]) await db.sql`insert into users (id, email, display_name) values (${id}, ${`${id}@example.test`}, 'L')`;
  const submissionId = uuidv7();
  await db.sql`insert into attempts (id, assessment_id, course_id, user_id, number, status, started_at, submitted_at, submitted_by, answers)
    values (${submissionId}, ${assessmentId}, ${courseId}, ${learner}, 1, 'submitted', now(), now(), 'learner', ${JSON.stringify({ q: false })}::jsonb)`;
  await db.sql`insert into grades (id, submission_id, assessment_id, course_id, user_id, version, key_version, percent, item_scores, explanation)
    values (${uuidv7()}, ${submissionId}, ${assessmentId}, ${courseId}, ${learner}, 1, 1, 0, '[]'::jsonb, '[]'::jsonb)`;
  const openAttemptId = uuidv7();
  await db.sql`insert into attempts (id, assessment_id, course_id, user_id, number, status, started_at, answers)
    values (${openAttemptId}, ${assessmentId}, ${courseId}, ${other}, 1, 'in-progress', now(), '{}'::jsonb)`;
  const changed = await inTransaction((tx) => changeAssessment(tx, assessmentId, { keys: { q: { type: "true-false", correct: false } } }));
  expect(changed).toMatchObject({ ok: true, value: { assessment: { keyVersion: 2 }, keys: { q: { correct: false } } } });
  return { assessmentId, submissionId, learner, openAttemptId };
}

describe("regradeDifferences", () => {
  it("shows, per submission graded with an older key, its grade now and with the current key, and records nothing", async () => {
    const { assessmentId, submissionId, learner } = await gradedWithOldKey();
    expect(await regradeDifferences(db.db, assessmentId)).toEqual({
      ok: true,
      value: [{ submissionId, userId: learner, before: 0, after: 100, keyVersionBefore: 1, keyVersionAfter: 2 }],
    });
    expect(await db.sql`select 1 from grades where submission_id = ${submissionId}`).toHaveLength(1);
  });

  it("does not find an assessment that does not exist", async () => {
    expect(await regradeDifferences(db.db, uuidv7())).toMatchObject({ ok: false, error: { code: "ASSESSMENT_NOT_FOUND" } });
  });
});

describe("regradeSubmission", () => {
  it("adds a grade version with the current key once: a retry finds it and adds nothing", async () => {
    const { assessmentId, submissionId } = await gradedWithOldKey();
    expect(await inTransaction((tx) => regradeSubmission(tx, submissionId))).toMatchObject({ before: 0, after: 100, keyVersionBefore: 1, keyVersionAfter: 2 });
    expect(await inTransaction((tx) => regradeSubmission(tx, submissionId))).toMatchObject({ before: 100, after: 100, keyVersionBefore: 2, keyVersionAfter: 2 });
    expect(await db.sql`select version, key_version, percent from grades where submission_id = ${submissionId} order by version`).toEqual([
      { version: 1, key_version: 1, percent: 0 },
      { version: 2, key_version: 2, percent: 100 },
    ]);
    expect(await db.sql`select 1 from outbox where type = 'grade.published' and aggregate_id = ${submissionId}`).toHaveLength(1);
    expect(await regradeDifferences(db.db, assessmentId)).toEqual({ ok: true, value: [] });
  });

  it("answers null for an attempt that is not submitted, or does not exist", async () => {
    const { openAttemptId } = await gradedWithOldKey();
    expect(await inTransaction((tx) => regradeSubmission(tx, openAttemptId))).toBeNull();
    expect(await inTransaction((tx) => regradeSubmission(tx, uuidv7()))).toBeNull();
  });
});
