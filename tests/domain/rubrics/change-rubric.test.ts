import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import type { RubricCriterion } from "../../../domain/db/schema/assessment-json.js";
import { gradeSubmission, submitManualScores } from "../../../domain/grading/grade-submission.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import { attachRubrics } from "../../../domain/rubrics/attach-rubrics.js";
import { changeRubric, rubricChangeDryRun } from "../../../domain/rubrics/change-rubric.js";
import { createRubric } from "../../../domain/rubrics/manage-rubrics.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";
import { createCourse } from "../../support/identity.js";

let db: TestDatabase;
let ctx: DomainContext;
let inTx: ReturnType<typeof inTransactionOf>;
let courseId: string;

const level = (id: string, points: number) => ({ id, title: id, description: "", points });
const thesis: RubricCriterion = { kind: "levels", id: "thesis", title: "Thesis", description: "", levels: [level("strong", 4), level("fair", 2), level("weak", 0)] };
const style: RubricCriterion = { kind: "free-points", id: "style", title: "Style", description: "", maxPoints: 4 };

beforeAll(async () => {
  ({ db, ctx } = await openDomainDatabase());
  inTx = inTransactionOf(db, ctx);
  courseId = await createCourse(db);
});
afterAll(() => db?.drop());

async function essaySubmission(assessmentId: string, answers: Record<string, string>): Promise<string> {
  const learnerId = uuidv7();
  const attemptId = uuidv7();
  await db.sql`insert into users (id, email, display_name) values (${learnerId}, ${`l-${learnerId}@example.test`}, 'Learner')`;
  await db.sql`insert into attempts (id, assessment_id, course_id, user_id, number, status, started_at, submitted_at, submitted_by, answers)
    values (${attemptId}, ${assessmentId}, ${courseId}, ${learnerId}, 1, 'submitted', now(), now(), 'learner', ${JSON.stringify(answers)}::jsonb)`;
  return attemptId;
}

describe("a rubric change's dry run and the real change", () => {
  it("answers each scored submission's percent now and with the proposed rubric, changes nothing, then regrades through a new key version", async () => {
    const created = await inTx((tx) => createRubric(tx, courseId, { title: "Essay", criteria: [thesis, style] }));
    if (!created.ok) throw new Error("rubric not created");
    const rubricId = created.value.id;
    const assessmentId = uuidv7();
    await db.sql`insert into assessments (id, course_id, title, kind, items) values (${assessmentId}, ${courseId}, 'Essay', 'assignment',
      ${JSON.stringify([{ id: "e1", type: "essay", points: 10, prompt: "" }, { id: "e2", type: "essay", points: 10, prompt: "" }])}::jsonb)`;
    await db.sql`insert into assessment_keys (assessment_id, version, keys) values (${assessmentId}, 1, '{}'::jsonb)`;
    expect(await inTx((tx) => attachRubrics(tx, assessmentId, { items: { e1: rubricId }, whole: null }))).toMatchObject({ ok: true });
    const a = await essaySubmission(assessmentId, { e1: "a", e2: "b" });
    const b = await essaySubmission(assessmentId, { e1: "c", e2: "d" });
    // a: thesis fair (2) + style 2 of 8 → e1 5 of 10, e2 10 of 10: 75%. b: strong (4) + style 4 → 10, e2 0: 50%.
    await inTx((tx) => submitManualScores(tx, a, [{ itemId: "e1", rubric: { criteria: [{ criterionId: "thesis", levelId: "fair" }, { criterionId: "style", points: 2 }] }, feedback: "" }, { itemId: "e2", points: 10, feedback: "" }]));
    await inTx((tx) => submitManualScores(tx, b, [{ itemId: "e1", rubric: { criteria: [{ criterionId: "thesis", levelId: "strong" }, { criterionId: "style", points: 4 }] }, feedback: "" }, { itemId: "e2", points: 0, feedback: "" }]));
    expect((await gradeSubmission(db.db, a))?.grade.percent).toBe(75);
    const [stored] = await db.sql<{ points: number }[]>`select points from manual_scores where submission_id = ${a} and item_id = 'e1'`;
    expect(stored?.points).toBe(5);

    // Proposed: fair is worth 4 of 6 (style stays up to 4). a: (4 + 2) / 10 → 6 of 10 → 80%. b: (6 + 4) / 10 → 10 → 50%.
    const proposed = { title: "Essay", criteria: [{ ...thesis, levels: [level("strong", 6), level("fair", 4), level("weak", 0)] }, style] as RubricCriterion[] };
    // Another assessment uses the rubric with nothing scored yet: listed with no submissions, and no new key version.
    const unscoredId = uuidv7();
    await db.sql`insert into assessments (id, course_id, title, kind, items) values (${unscoredId}, ${courseId}, 'Later', 'assignment',
      ${JSON.stringify([{ id: "e1", type: "essay", points: 5, prompt: "" }])}::jsonb)`;
    expect(await inTx((tx) => attachRubrics(tx, unscoredId, { items: {}, whole: rubricId }))).toMatchObject({ ok: true });
    const keysBefore = await db.sql`select version from assessment_keys where assessment_id = ${assessmentId}`;
    const dry = await rubricChangeDryRun(db.db, rubricId, proposed);
    expect(dry).toEqual({
      ok: true,
      value: {
        assessments: [
          {
            assessmentId,
            submissions: [
              { submissionId: a, userId: expect.any(String), before: 75, after: 80 },
              { submissionId: b, userId: expect.any(String), before: 50, after: 50 },
            ],
          },
          { assessmentId: unscoredId, submissions: [] },
        ],
        truncated: false,
      },
    });
    expect(await db.sql`select version from assessment_keys where assessment_id = ${assessmentId}`).toEqual(keysBefore);
    expect(await db.sql<{ version: number }[]>`select version from rubrics where id = ${rubricId}`).toEqual([{ version: 1 }]);

    expect(await inTx((tx) => changeRubric(tx, rubricId, proposed, 7))).toMatchObject({ ok: false, error: { code: "PRECONDITION_FAILED" } });
    const dropsFair = { title: "Essay", criteria: [{ ...thesis, levels: [level("strong", 4), level("weak", 0)] }, style] as RubricCriterion[] };
    expect(await inTx((tx) => changeRubric(tx, rubricId, dropsFair, 1))).toMatchObject({
      ok: false,
      error: { code: "RUBRIC_LEVELS_IN_USE", extensions: { inUse: [{ criterionId: "thesis", levelId: "fair", reason: "removed" }] } },
    });
    // b chose 4 style points: a maximum of 2 would cap it quietly; a new criterion would score both 0 on it. The dry run refuses as the change does.
    const lowersStyle = { title: "Essay", criteria: [thesis, { ...style, maxPoints: 2 }] as RubricCriterion[] };
    const addsVoice = { title: "Essay", criteria: [thesis, style, { ...style, id: "voice", title: "Voice" }] as RubricCriterion[] };
    for (const refused of [lowersStyle, addsVoice]) {
      const inUse = [{ criterionId: refused === lowersStyle ? "style" : "voice", levelId: null, reason: refused === lowersStyle ? "over-maximum" : "added" }];
      expect(await inTx((tx) => changeRubric(tx, rubricId, refused, 1))).toMatchObject({ ok: false, error: { code: "RUBRIC_LEVELS_IN_USE", extensions: { inUse } } });
      expect(await rubricChangeDryRun(db.db, rubricId, refused)).toMatchObject({ ok: false, error: { code: "RUBRIC_LEVELS_IN_USE", extensions: { inUse } } });
    }
    const changed = await inTx((tx) => changeRubric(tx, rubricId, proposed, 1));
    expect(changed).toMatchObject({ ok: true, value: { rubric: { version: 2 }, regrading: [assessmentId] } });
    expect(await db.sql`select key_version from assessments where id = ${assessmentId}`).toEqual([{ key_version: 2 }]);
    expect(await db.sql`select key_version from assessments where id = ${unscoredId}`).toEqual([{ key_version: 1 }]);
    expect(await db.sql`select 1 from outbox where type = 'assessment.key-changed' and aggregate_id = ${assessmentId}`).toHaveLength(1);
    expect((await gradeSubmission(db.db, a))?.grade.percent).toBe(80);
    expect(await db.sql`select 1 from audit_log where action = 'rubric.changed' and target_id = ${rubricId}`).toHaveLength(1);
  });

  it("refuses to move an item's scores off the rubric that made them", async () => {
    const r = await inTx((tx) => createRubric(tx, courseId, { title: "Other", criteria: [style] }));
    const s = await inTx((tx) => createRubric(tx, courseId, { title: "Another", criteria: [style] }));
    if (!r.ok || !s.ok) throw new Error("rubrics not created");
    const assessmentId = uuidv7();
    await db.sql`insert into assessments (id, course_id, title, kind, items) values (${assessmentId}, ${courseId}, 'Essay', 'assignment',
      ${JSON.stringify([{ id: "e1", type: "essay", points: 4, prompt: "" }, { id: "q", type: "true-false", points: 1, prompt: "" }])}::jsonb)`;
    expect(await inTx((tx) => attachRubrics(tx, assessmentId, { items: { q: r.value.id }, whole: null }))).toMatchObject({ ok: false, error: { code: "INVALID_ASSESSMENT_SETTINGS" } });
    expect(await inTx((tx) => attachRubrics(tx, assessmentId, { items: {}, whole: r.value.id }))).toMatchObject({ ok: true });
    const sub = await essaySubmission(assessmentId, { e1: "x" });
    expect(await inTx((tx) => submitManualScores(tx, sub, [], { criteria: [{ criterionId: "style", points: 3 }] }))).toEqual({ ok: true, value: { waitingItems: [] } });
    expect(await inTx((tx) => attachRubrics(tx, assessmentId, { items: { e1: s.value.id }, whole: r.value.id }))).toMatchObject({ ok: false, error: { code: "RUBRIC_IN_USE" } });
    expect(await inTx((tx) => attachRubrics(tx, assessmentId, { items: {}, whole: null }))).toMatchObject({ ok: false, error: { code: "RUBRIC_IN_USE" } });
    expect(await db.sql`select rubrics from assessments where id = ${assessmentId}`).toEqual([{ rubrics: { items: {}, whole: r.value.id } }]);
  });

  it("attaches a rubric to a drawn essay by its bank item id (a bank the pools draw from), and scores the drawn item with it", async () => {
    const r = await inTx((tx) => createRubric(tx, courseId, { title: "Drawn", criteria: [style] }));
    if (!r.ok) throw new Error("rubric not created");
    const [bankId, otherBankId, essayId, singleId, elsewhereId] = [uuidv7(), uuidv7(), uuidv7(), uuidv7(), uuidv7()];
    await db.sql`insert into question_banks (id, course_id, title) values (${bankId}, ${courseId}, 'Pool bank'), (${otherBankId}, ${courseId}, 'Other bank')`;
    await db.sql`insert into bank_items (id, bank_id, type) values (${essayId}, ${bankId}, 'essay'), (${singleId}, ${bankId}, 'single'), (${elsewhereId}, ${otherBankId}, 'essay')`;
    const drawnEssay = { id: essayId, type: "essay", points: 6, prompt: "Argue" };
    await db.sql`insert into bank_item_versions (item_id, version, item, key) values (${essayId}, 1, ${JSON.stringify(drawnEssay)}::jsonb, null)`;
    const assessmentId = uuidv7();
    await db.sql`insert into assessments (id, course_id, title, kind, items, pools) values (${assessmentId}, ${courseId}, 'Drawn', 'assignment', '[]'::jsonb,
      ${JSON.stringify([{ id: "p1", bankId, count: 1, tags: [] }])}::jsonb)`;
    await db.sql`insert into assessment_keys (assessment_id, version, keys) values (${assessmentId}, 1, '{}'::jsonb)`;
    for (const wrong of [singleId, elsewhereId, "not-a-uuid"]) {
      expect(await inTx((tx) => attachRubrics(tx, assessmentId, { items: { [wrong]: r.value.id }, whole: null }))).toMatchObject({ ok: false, error: { code: "INVALID_ASSESSMENT_SETTINGS", extensions: { items: [wrong] } } });
    }
    expect(await inTx((tx) => attachRubrics(tx, assessmentId, { items: { [essayId]: r.value.id }, whole: null }))).toMatchObject({ ok: true });
    const sub = await essaySubmission(assessmentId, { [essayId]: "Because" });
    await db.sql`update attempts set items = ${JSON.stringify([{ ...drawnEssay, source: { bankId, itemId: essayId, version: 1 } }])}::jsonb where id = ${sub}`;
    const scored = await inTx((tx) => submitManualScores(tx, sub, [{ itemId: essayId, rubric: { criteria: [{ criterionId: "style", points: 2 }] }, feedback: "" }]));
    expect(scored).toEqual({ ok: true, value: { waitingItems: [] } });
    // 2 of 4 rubric points → 3 of 6.
    const graded = await gradeSubmission(db.db, sub);
    expect(graded?.grade.percent).toBe(50);
    expect(graded?.itemScores[0]).toMatchObject({ itemId: essayId, points: 3, rubric: { rubricId: r.value.id, target: "item" } });
  });
});
