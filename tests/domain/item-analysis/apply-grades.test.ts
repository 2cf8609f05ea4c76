import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ItemScore } from "../../../domain/db/schema/assessment-json.js";
import { applyGrades } from "../../../domain/item-analysis/apply-grades.js";
import { itemAnalysisReport } from "../../../domain/item-analysis/item-analysis-report.js";
import type { TestDatabase } from "../../support/database.js";
import { openDomainDatabase } from "../../support/domain-database.js";
import { createCourse } from "../../support/identity.js";

let db: TestDatabase;
let courseId: string;
const learners: string[] = [];
let assessmentId: string;
let bankItemId: string;
const submissions: string[] = [];
const firstGrades: string[] = [];

const fixed = { id: "f1", type: "true-false", points: 1, prompt: "Fixed statement" };
const bankVersion = (version: number) => ({
  id: bankItemId,
  type: "single",
  points: 2,
  prompt: `Bank question, version ${version}`,
  choices: [
    { id: "a", text: "A" },
    { id: "b", text: "B" },
  ],
  source: { bankId: "", itemId: bankItemId, version },
});

const owner = new Map<string, string>();

/** A submitted attempt; `seconds` spent on f1. */
async function submission(learner: number, number: number, version: number, answers: Record<string, unknown>, seconds: number): Promise<string> {
  const id = uuidv7();
  await db.sql`insert into attempts (id, assessment_id, course_id, user_id, number, status, started_at, submitted_at, submitted_by, answers, items, item_seconds)
    values (${id}, ${assessmentId}, ${courseId}, ${learners[learner]!}, ${number}, 'submitted', now(), now(), 'learner', ${JSON.stringify(answers)}::jsonb,
      ${JSON.stringify([fixed, bankVersion(version)])}::jsonb, ${JSON.stringify({ f1: seconds })}::jsonb)`;
  owner.set(id, learners[learner]!);
  return id;
}

async function grade(submissionId: string, version: number, fixedPoints: number, bankPoints: number, bankItemVersion: number, bankMax = 2): Promise<string> {
  const id = uuidv7();
  const scores: ItemScore[] = [
    { itemId: "f1", points: fixedPoints, maxPoints: 1, status: "auto", explanation: "" },
    { itemId: bankItemId, points: bankPoints, maxPoints: bankMax, status: "auto", explanation: "", source: { bankId: "", itemId: bankItemId, version: bankItemVersion } },
  ];
  await db.sql`insert into grades (id, submission_id, assessment_id, course_id, user_id, version, key_version, percent, item_scores, explanation)
    values (${id}, ${submissionId}, ${assessmentId}, ${courseId}, ${owner.get(submissionId)!}, ${version}, 1, 50, ${JSON.stringify(scores)}::jsonb, '[]'::jsonb)`;
  return id;
}

const inTx = (gradeIds: string[]) => db.db.transaction((tx) => applyGrades(tx, gradeIds));

beforeAll(async () => {
  ({ db } = await openDomainDatabase());
  courseId = await createCourse(db);
  for (let i = 0; i < 4; i++) {
    const id = uuidv7();
    learners.push(id);
    await db.sql`insert into users (id, email, display_name) values (${id}, ${`l-${id}@example.test`}, 'Learner')`;
  }
  const bankId = uuidv7();
  bankItemId = uuidv7();
  await db.sql`insert into question_banks (id, course_id, title) values (${bankId}, ${courseId}, 'Bank')`;
  await db.sql`insert into bank_items (id, bank_id, type, current_version) values (${bankItemId}, ${bankId}, 'single', 2)`;
  for (const v of [1, 2]) {
    const { source: _source, ...item } = bankVersion(v);
    await db.sql`insert into bank_item_versions (item_id, version, item, key) values (${bankItemId}, ${v}, ${JSON.stringify(item)}::jsonb,
      ${JSON.stringify({ type: "single", correct: v === 1 ? "a" : "b" })}::jsonb)`;
  }
  assessmentId = uuidv7();
  await db.sql`insert into assessments (id, course_id, title, kind, items, pools) values (${assessmentId}, ${courseId}, 'Pooled', 'quiz', ${JSON.stringify([fixed])}::jsonb,
    ${JSON.stringify([{ id: "p", bankId, count: 1, tags: [] }])}::jsonb)`;
  await db.sql`insert into assessment_keys (assessment_id, version, keys) values (${assessmentId}, 1, ${JSON.stringify({ f1: { type: "true-false", correct: true } })}::jsonb)`;
  submissions.push(
    await submission(0, 1, 1, { f1: true, [bankItemId]: "a" }, 10),
    await submission(1, 1, 2, { f1: false, [bankItemId]: "a" }, 20),
    await submission(2, 1, 2, { f1: true, [bankItemId]: "b" }, 30),
  );
  firstGrades.push(await grade(submissions[0]!, 1, 1, 2, 1), await grade(submissions[1]!, 1, 0, 0, 2), await grade(submissions[2]!, 1, 1, 2, 2));
});
afterAll(() => db?.drop());

const stats = () => db.sql<{ item_id: string; item_version: number; n: number; sum_score: number; sum_rest: number; time_n: number; time_sum: number }[]>`
  select item_id, item_version, n, sum_score, sum_rest, time_n, time_sum from item_stats where assessment_id = ${assessmentId} order by item_id, item_version`;

describe("counting published grades in the item analysis", () => {
  it("counts each grade once when batches holding it race, in any order", async () => {
    const results = await Promise.all([inTx(firstGrades), inTx([...firstGrades].reverse()), inTx([firstGrades[1]!]), inTx(firstGrades)]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual([...submissions].sort());
    expect(await db.sql`select n, sum_total, sum_total_sq from assessment_stats where assessment_id = ${assessmentId}`).toEqual([{ n: 3, sum_total: 6, sum_total_sq: 18 }]);
    const byItem = await stats();
    expect(byItem.find((s) => s.item_id === "f1")).toMatchObject({ item_version: 1, n: 3, sum_score: 2, sum_rest: 4, time_n: 3, time_sum: 60 });
    expect(byItem.filter((s) => s.item_id === bankItemId).map((s) => [s.item_version, s.n, s.sum_score])).toEqual([
      [1, 1, 2],
      [2, 2, 2],
    ]);
  });

  it("replaces a submission's share with a newer grade version; an older one arriving alongside changes nothing", async () => {
    const regrade = await grade(submissions[1]!, 2, 1, 2, 2);
    await Promise.all([inTx([regrade]), inTx([firstGrades[1]!])]);
    await inTx([firstGrades[1]!]);
    expect(await db.sql`select grade_version, total from item_analysis_contributions where submission_id = ${submissions[1]!}`).toEqual([{ grade_version: 2, total: 3 }]);
    expect(await db.sql`select n, sum_total, sum_total_sq from assessment_stats where assessment_id = ${assessmentId}`).toEqual([{ n: 3, sum_total: 9, sum_total_sq: 27 }]);
    const byItem = (await stats()).map((s) => [s.item_id === "f1" ? "f1" : "bank", s.item_version, s.n, s.sum_score]);
    expect(byItem).toEqual(
      expect.arrayContaining([
        ["f1", 1, 3, 3],
        ["bank", 1, 1, 2],
        ["bank", 2, 2, 4],
      ]),
    );
    expect(byItem).toHaveLength(3);
  });

  it("reports each version with its own prompt and key, and no alpha for a pooled assessment", async () => {
    const report = await itemAnalysisReport(db.db, assessmentId);
    if (!report.ok) throw new Error(report.error.code);
    expect(report.value).toMatchObject({ submissions: 3, alpha: null, alphaReason: expect.stringContaining("pools") });
    const [f1, v1, v2] = report.value.items;
    expect(f1).toMatchObject({ itemId: "f1", origin: "assessment", prompt: "Fixed statement", facility: 1, meanSeconds: 20, flags: expect.arrayContaining(["too-easy", "few-responses"]) });
    expect(v1).toMatchObject({ itemVersion: 1, origin: "bank", prompt: "Bank question, version 1", choices: [{ id: "a", correct: true, picks: 1 }, { id: "b", correct: false, picks: 0 }] });
    expect(v2).toMatchObject({ itemVersion: 2, origin: "bank", prompt: "Bank question, version 2", choices: [{ id: "a", correct: false, picks: 1 }, { id: "b", correct: true, picks: 1 }] });
    expect(await itemAnalysisReport(db.db, uuidv7())).toMatchObject({ ok: false, error: { code: "ASSESSMENT_NOT_FOUND" } });
  });

  it("counts each learner's first submitted attempt only: later attempts' grades change nothing, in any batch order", async () => {
    const second = await submission(0, 2, 2, { f1: true, [bankItemId]: "b" }, 40);
    const secondGrade = await grade(second, 1, 1, 2, 2);
    expect(await inTx([secondGrade])).toEqual({ applied: [], skipped: [secondGrade] });
    const first3 = await submission(3, 1, 2, { f1: true, [bankItemId]: "a" }, 50);
    const second3 = await submission(3, 2, 2, { f1: true, [bankItemId]: "b" }, 60);
    // the first attempt drew the bank version at 4 points (a pool's points), and scored a third of f1 (partial credit)
    const [g31, g32] = [await grade(first3, 1, 1 / 3, 1, 2, 4), await grade(second3, 1, 1, 4, 2, 4)];
    expect(await inTx([g32, g31])).toEqual({ applied: [first3], skipped: [g32] });
    expect(await db.sql`select submission_id from item_analysis_contributions where assessment_id = ${assessmentId} and grade_version > 0 order by submission_id`).toEqual(
      [...submissions, first3].sort().map((id) => ({ submission_id: id })),
    );
    expect((await db.sql`select n from assessment_stats where assessment_id = ${assessmentId}`)[0]).toEqual({ n: 4 });
    // the total is kept as computed (double): a float4 1.3333334 would be taken out of the sums at the next regrade
    expect((await db.sql`select total from item_analysis_contributions where submission_id = ${first3}`)[0]!.total).toBe(1 / 3 + 1);
  });

  it("takes out exactly what it put in at a regrade, and divides facility by the points each response was worth", async () => {
    const first3 = (await db.sql<{ id: string }[]>`select id from attempts where user_id = ${learners[3]!} and number = 1`)[0]!.id;
    await inTx([await grade(first3, 2, 1, 1, 2, 4)]);
    const [totals] = await db.sql<{ n: number; sum_total: number; sum_total_sq: number }[]>`select n, sum_total, sum_total_sq from assessment_stats where assessment_id = ${assessmentId}`;
    expect(totals!.n).toBe(4);
    expect(totals!.sum_total).toBeCloseTo(9 + 2, 12);
    expect(totals!.sum_total_sq).toBeCloseTo(27 + 4, 12);
    const report = await itemAnalysisReport(db.db, assessmentId);
    if (!report.ok) throw new Error(report.error.code);
    expect(report.value).toMatchObject({ attemptsCounted: "first", submissions: 4 });
    // version 2: 2 of 2, 2 of 2 and 1 of 4 points = 5 of 8 (n × the newest max would say 5 of 12)
    expect(report.value.items.find((i) => i.itemId === bankItemId && i.itemVersion === 2)).toMatchObject({ n: 3, maxPoints: 4, facility: 5 / 8 });
  });
});
