import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pruneClosedResponses, runEvaluationTimer } from "../../../domain/evaluations/evaluation-timer.js";
import { receiptFor } from "../../../domain/evaluations/receipts.js";
import { respondToEvaluation } from "../../../domain/evaluations/respond.js";
import { erasePersonalData } from "../../../domain/privacy/erasure.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";
import { insertUser } from "../../support/privacy-fixtures.js";

const KEY = "a-test-evaluation-receipt-key-of-32-characters";
const timerOptions = { reminderHours: 24, receiptKey: KEY, appUrl: "https://app.example.test", unsubscribeUrl: async () => "https://app.example.test/unsubscribe" };
const questions = [{ id: "overall", kind: "likert", prompt: "Overall", required: true }];

let db: TestDatabase;
let ctx: DomainContext;
beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

async function courseWithLearners(count: number): Promise<{ courseId: string; learners: string[] }> {
  const courseId = uuidv7();
  await db.sql`insert into courses (id, title) values (${courseId}, 'Evaluated')`;
  const learners: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = await insertUser(db);
    await db.sql`insert into enrollments (id, course_id, user_id, status, source) values (${uuidv7()}, ${courseId}, ${id}, 'active', 'self')`;
    learners.push(id);
  }
  return { courseId, learners };
}

async function evaluation(courseId: string, status: "scheduled" | "open", opensInHours: number, closesInHours: number): Promise<string> {
  const templateId = uuidv7();
  const id = uuidv7();
  await db.sql`insert into evaluation_templates (id, title, questions) values (${templateId}, 'T', ${JSON.stringify(questions)}::jsonb)`;
  await db.sql`insert into course_evaluations (id, course_id, template_id, term, questions, opens_at, closes_at, status)
    values (${id}, ${courseId}, ${templateId}, 'term', ${JSON.stringify(questions)}::jsonb, now() + make_interval(hours => ${opensInHours}), now() + make_interval(hours => ${closesInHours}), ${status})`;
  return id;
}

const answer = (evaluationId: string, userId: string) => inTransactionOf(db, ctx)((c) => respondToEvaluation(c, { evaluationId, userId, answers: { overall: 4 } }, KEY));

describe("evaluations against PostgreSQL", () => {
  it("opens an evaluation once when two timer runs race, notifying each learner once", async () => {
    const { courseId, learners } = await courseWithLearners(3);
    const id = await evaluation(courseId, "scheduled", -1, 72);
    const runs = await Promise.all([0, 1].map(() => inTransactionOf(db, ctx)((c) => runEvaluationTimer(c, timerOptions))));
    expect(runs.map((r) => r.opened).sort()).toEqual([0, 1]);
    expect(await db.sql`select 1 from outbox where type = 'evaluation.opened' and aggregate_id = ${id}`).toHaveLength(1);
    const notices = await db.sql<{ user_id: string }[]>`select user_id from notifications where subject_id = ${id} and template = 'evaluation-opened'`;
    expect(notices.map((n) => n.user_id).sort()).toEqual([...learners].sort());
  });

  it("does not remind in the run that opens an evaluation whose window is shorter than the reminder period, nor later", async () => {
    const { courseId } = await courseWithLearners(2);
    const short = await evaluation(courseId, "scheduled", -1, 2);
    const runTimer = () => inTransactionOf(db, ctx)((c) => runEvaluationTimer(c, timerOptions));
    await runTimer();
    await runTimer();
    expect(await db.sql`select status, reminded_at from course_evaluations where id = ${short}`).toEqual([{ status: "open", reminded_at: null }]);
    expect(await db.sql`select 1 from notifications where subject_id = ${short} and template = 'evaluation-reminder'`).toHaveLength(0);
    expect(await db.sql`select 1 from notifications where subject_id = ${short} and template = 'evaluation-opened'`).toHaveLength(2);
  });

  it("reminds an evaluation open since before the reminder point once, over two runs", async () => {
    const { courseId, learners } = await courseWithLearners(2);
    const id = await evaluation(courseId, "open", -30, 2);
    await db.sql`update course_evaluations set opened_at = now() - interval '30 hours' where id = ${id}`;
    const runTimer = () => inTransactionOf(db, ctx)((c) => runEvaluationTimer(c, timerOptions));
    await runTimer();
    await runTimer();
    const reminders = await db.sql<{ user_id: string }[]>`select user_id from notifications where subject_id = ${id} and template = 'evaluation-reminder'`;
    expect(reminders.map((r) => r.user_id).sort()).toEqual([...learners].sort());
  });

  it("closing rewrites the responses under a new transaction id, and the vacuum after it runs on the pool", async () => {
    const { courseId, learners } = await courseWithLearners(2);
    const id = await evaluation(courseId, "open", -2, 1);
    for (const learner of learners) expect((await answer(id, learner)).ok).toBe(true);
    await db.sql`update course_evaluations set closes_at = now() - interval '1 second' where id = ${id}`;
    await inTransactionOf(db, ctx)((c) => runEvaluationTimer(c, timerOptions));
    const receiptXmins = new Set((await db.sql<{ xmin: string }[]>`select xmin::text from evaluation_receipts where evaluation_id = ${id}`).map((r) => r.xmin));
    const responses = await db.sql<{ xmin: string }[]>`select xmin::text from evaluation_responses where evaluation_id = ${id}`;
    expect(responses).toHaveLength(2);
    for (const r of responses) expect(receiptXmins.has(r.xmin)).toBe(false);
    await pruneClosedResponses(db.db);
    const [stats] = await db.sql<{ vacuumed: boolean }[]>`select last_vacuum is not null as vacuumed from pg_stat_user_tables where relname = 'evaluation_responses'`;
    expect(stats?.vacuumed).toBe(true);
  });

  it("takes one answer when a learner answers twice at once", async () => {
    const { courseId, learners } = await courseWithLearners(1);
    const id = await evaluation(courseId, "open", -1, 72);
    const outcomes = await Promise.all([0, 1].map(() => answer(id, learners[0] as string)));
    expect(outcomes.map((o) => (o.ok ? "ok" : o.error.code)).sort()).toEqual(["EVALUATION_ALREADY_ANSWERED", "ok"]);
    expect(await db.sql`select response_count from course_evaluations where id = ${id}`).toEqual([{ response_count: 1 }]);
    expect(await db.sql`select 1 from evaluation_responses where evaluation_id = ${id}`).toHaveLength(1);
  });

  it("erasure deletes the user's receipts (found with the key) and keeps the anonymous responses", async () => {
    const { courseId, learners } = await courseWithLearners(2);
    const [erased, kept] = learners as [string, string];
    const id = await evaluation(courseId, "open", -1, 72);
    for (const learner of learners) expect((await answer(id, learner)).ok).toBe(true);
    await inTransactionOf(db, ctx)((c) => erasePersonalData(c, erased, { evaluationReceiptKey: KEY }));
    const receipts = (await db.sql<{ receipt: string }[]>`select receipt from evaluation_receipts where evaluation_id = ${id}`).map((r) => r.receipt);
    expect(receipts).toEqual([receiptFor(KEY, id, kept)]);
    expect(await db.sql`select 1 from evaluation_responses where evaluation_id = ${id}`).toHaveLength(2);
  });
});
