import { ServiceBusClient } from "@azure/service-bus";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { type ExpectedAnalysis, expectedAnalysis, type Response as ItemResponse } from "../support/item-statistics.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// A fixed quiz taken by twelve learners with chosen answers, graded by the app; the item-analysis subscription's
// figures are checked against the same figures computed from scratch here (tests/support/item-statistics.ts).

let db: TestDatabase;
let app: RunningApp;
let instructor: TestUser;
let grader: TestUser;
let learners: TestUser[];
let quizId: string;
const submissions: string[] = [];

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000) => waitFor(what, probe, { timeoutMs, diagnostics: () => recentErrors(app) });

const choices = (ids: string[]) => ids.map((id) => ({ id, text: `Choice ${id.toUpperCase()}` }));
const items = [
  { id: "q1", type: "single", points: 2, prompt: "Which planet is the largest?", choices: choices(["a", "b", "c", "d"]) },
  { id: "q2", type: "true-false", points: 1, prompt: "Water boils at 100 °C at sea level." },
  { id: "q3", type: "multiple", points: 2, prompt: "Which are noble gases?", choices: choices(["x", "y", "z"]) },
  { id: "q4", type: "numeric", points: 1, prompt: "What is 6 × 7?" },
];
const firstKeys = {
  q1: { type: "single", correct: "b" },
  q2: { type: "true-false", correct: true },
  q3: { type: "multiple", correct: ["x", "y"] },
  q4: { type: "numeric", mode: "exact", value: 42 },
};
// The key change: c was the right answer to q1 all along.
const secondKeys = { ...firstKeys, q1: { type: "single", correct: "c" } };

// Each learner's answers: nobody picks q1's d, everyone gets q2 right, one learner leaves q4 blank.
type Sheet = { q1: string; q2: boolean; q3: string[]; q4: number | null };
const sheets: Sheet[] = [
  { q1: "b", q2: true, q3: ["x", "y"], q4: 42 },
  { q1: "b", q2: true, q3: ["x", "y"], q4: 42 },
  { q1: "b", q2: true, q3: ["x", "y"], q4: 41 },
  { q1: "b", q2: true, q3: ["x"], q4: 42 },
  { q1: "c", q2: true, q3: ["x", "y"], q4: 42 },
  { q1: "c", q2: true, q3: ["x", "z"], q4: 42 },
  { q1: "a", q2: true, q3: ["x", "y"], q4: 40 },
  { q1: "b", q2: true, q3: ["y"], q4: 42 },
  { q1: "a", q2: true, q3: ["z"], q4: 7 },
  { q1: "c", q2: true, q3: ["x", "y"], q4: null },
  { q1: "b", q2: true, q3: ["x", "y", "z"], q4: 42 },
  { q1: "a", q2: true, q3: ["y", "z"], q4: 6 },
];
const secondsOf = (n: number) => ({ q1: 20 + n, q2: 5, q3: 30 + 2 * n });

/** The matrix by the keys' plain meaning (all-or-nothing multiple choice), computed without the app's scoring. */
function matrixFor(q1Correct: string) {
  return {
    itemIds: ["q1", "q2", "q3", "q4"],
    max: [2, 1, 2, 1],
    responses: sheets.map((s, n): ItemResponse[] => [
      { points: s.q1 === q1Correct ? 2 : 0, picked: [s.q1], seconds: secondsOf(n).q1 },
      { points: s.q2 ? 1 : 0, picked: [String(s.q2)], seconds: 5 },
      { points: [...s.q3].sort().join() === "x,y" ? 2 : 0, picked: s.q3, seconds: secondsOf(n).q3 },
      { points: s.q4 === 42 ? 1 : 0 },
    ]),
  };
}

type Report = {
  submissions: number;
  alpha: number | null;
  alphaReason: string | null;
  items: { itemId: string; itemVersion: number; origin: string; type: string; prompt: string | null; n: number; facility: number | null; discrimination: number | null; meanSeconds: number | null; choices: { id: string; text: string; correct: boolean; picks: number }[] | null; flags: string[] }[];
};
const report = async (token = grader.accessToken) => (await jsonOf(await call(app, "GET", `/v1/assessments/${quizId}/item-analysis`, { token }))) as unknown as Report;

function expectMatches(actual: Report, expected: ExpectedAnalysis) {
  expect(actual.submissions).toBe(expected.submissions);
  expect(actual.alphaReason).toBeNull();
  expect(actual.alpha).toBeCloseTo(expected.alpha as number, 4);
  expect(actual.items.map((i) => i.itemId)).toEqual(expected.items.map((i) => i.itemId));
  for (const [j, item] of actual.items.entries()) {
    const want = expected.items[j]!;
    expect(item.n, item.itemId).toBe(want.n);
    expect(item.facility, item.itemId).toBeCloseTo(want.facility as number, 5);
    if (want.discrimination === null) expect(item.discrimination, item.itemId).toBeNull();
    else expect(item.discrimination, item.itemId).toBeCloseTo(want.discrimination, 4);
    if (want.meanSeconds === null) expect(item.meanSeconds).toBeNull();
    else expect(item.meanSeconds, item.itemId).toBeCloseTo(want.meanSeconds, 4);
    for (const c of item.choices ?? []) expect(c.picks, `${item.itemId}/${c.id}`).toBe(want.picks[c.id] ?? 0);
  }
}

const contributions = async () => db.sql<{ submission_id: string; grade_version: number; total: number }[]>`select submission_id, grade_version, total from item_analysis_contributions order by submission_id`;
const sums = async () => ({
  items: await db.sql`select item_id, n, sum_score, sum_score_sq, sum_rest, sum_rest_sq, sum_score_rest, time_n, time_sum from item_stats order by item_id`,
  choices: await db.sql`select item_id, choice_id, picks from item_choice_counts order by item_id, choice_id`,
  total: await db.sql`select n, sum_total, sum_total_sq from assessment_stats`,
});

beforeAll(async () => {
  ({ db, app } = await startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *" }));
  [instructor, grader, ...learners] = await Promise.all([
    signUp(app, db, { admin: true, label: "instructor" }),
    signUp(app, db, { label: "grader" }),
    ...sheets.map((_, n) => signUp(app, db, { label: `learner${n}` })),
  ]);
  const course = await jsonOf(await call(app, "POST", "/v1/courses", { token: instructor.accessToken, body: { title: "Item analysis" } }));
  const courseId = course.id as string;
  await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: instructor.accessToken });
  expect((await call(app, "POST", `/v1/courses/${courseId}/staff`, { token: instructor.accessToken, body: { userId: grader.id, role: "grader" } })).status).toBeLessThan(300);
  for (const l of learners) expect((await call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token: l.accessToken })).status).toBe(201);
  const quiz = await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
    token: instructor.accessToken,
    body: { title: "Science check", kind: "quiz", items: items.map((i) => (i.type === "multiple" ? { ...i, partialCredit: "all-or-nothing" } : i)), keys: firstKeys, attemptsAllowed: 2 },
  });
  expect(quiz.status).toBe(201);
  quizId = ((await quiz.json()) as { id: string }).id;
}, 120_000);

afterAll(() => stopAppAndDatabase({ db, app }));

describe("item analysis, from published grades", () => {
  it("matches figures computed independently once twelve learners are graded, with flags and alpha", async () => {
    await Promise.all(
      learners.map(async (l, n) => {
        const attempt = await jsonOf(await call(app, "POST", `/v1/assessments/${quizId}/attempts`, { token: l.accessToken }));
        const sheet = sheets[n]!;
        // started an hour ago, so the item seconds reported below fit in the attempt's time (saves cap them at it)
        await db.sql`update attempts set started_at = now() - interval '1 hour' where id = ${attempt.id as string}`;
        const saved = await call(app, "PUT", `/v1/attempts/${attempt.id as string}/answers`, { token: l.accessToken, body: { answers: sheet, itemSeconds: secondsOf(n) } });
        expect(saved.status).toBe(200);
        expect((await call(app, "POST", `/v1/attempts/${attempt.id as string}/submit`, { token: l.accessToken })).status).toBe(200);
        submissions.push(attempt.id as string);
      }),
    );
    await until("every grade counted", async () => ((await contributions()).filter((c) => c.grade_version === 1).length === sheets.length ? true : undefined));
    const got = await report();
    expectMatches(got, expectedAnalysis(matrixFor("b")));
    const [q1, q2, q3, q4] = got.items;
    expect(q1).toMatchObject({ itemVersion: 1, origin: "assessment", type: "single", prompt: "Which planet is the largest?" });
    expect(q1!.choices).toEqual([
      { id: "a", text: "Choice A", correct: false, picks: 3 },
      { id: "b", text: "Choice B", correct: true, picks: 6 },
      { id: "c", text: "Choice C", correct: false, picks: 3 },
      { id: "d", text: "Choice D", correct: false, picks: 0 },
    ]);
    expect(q1!.flags).toEqual(["unpicked-distractor"]);
    // Everyone right: too easy, no discrimination (the score does not vary), and "false" is a distractor nobody picked.
    expect(q2).toMatchObject({ facility: 1, discrimination: null, flags: ["too-easy", "unpicked-distractor"] });
    expect(q2!.choices?.map((c) => [c.id, c.correct, c.picks])).toEqual([
      ["true", true, 12],
      ["false", false, 0],
    ]);
    expect(q3!.choices?.map((c) => [c.id, c.correct])).toEqual([
      ["x", true],
      ["y", true],
      ["z", false],
    ]);
    expect(q4).toMatchObject({ choices: null, meanSeconds: null });
  }, 120_000);

  it("answers learners 403 and an unknown assessment 404", async () => {
    expect((await call(app, "GET", `/v1/assessments/${quizId}/item-analysis`, { token: learners[0]!.accessToken })).status).toBe(403);
    expect((await call(app, "GET", `/v1/assessments/${crypto.randomUUID()}/item-analysis`, { token: instructor.accessToken })).status).toBe(404);
    expect((await call(app, "GET", `/v1/assessments/${quizId}/item-analysis`, { token: instructor.accessToken })).status).toBe(200);
  });

  it("replaces every submission's share after a key change and regrade, n unchanged", async () => {
    const patched = await call(app, "PATCH", `/v1/assessments/${quizId}`, { token: instructor.accessToken, body: { keys: secondKeys } });
    expect(patched.status).toBe(200);
    await until("every regrade counted", async () => ((await contributions()).filter((c) => c.grade_version === 2).length === sheets.length ? true : undefined));
    const got = await report();
    expectMatches(got, expectedAnalysis(matrixFor("c")));
    expect(got.submissions).toBe(12);
    expect(got.items[0]!.choices?.find((c) => c.correct)?.id).toBe("c");
  }, 120_000);

  it("changes nothing when a grade.published is delivered again, or an older version arrives late", async () => {
    const before = { contributions: await contributions(), sums: await sums(), report: await report() };
    const submissionId = submissions[0]!;
    const events = await db.sql<{ type: string; occurred_at: Date; actor: unknown; data: { version: number }; traceparent: string | null }[]>`
      select type, occurred_at, actor, data, traceparent from outbox where type = 'grade.published' and aggregate_id = ${submissionId} order by (data->>'version')::int`;
    expect(events.map((e) => e.data.version)).toEqual([1, 2]);
    const client = new ServiceBusClient(app.env.ServiceBusConnection as string);
    const sender = client.createSender("lms-events");
    const ids = events.map(() => uuidv7());
    try {
      // The newest again, then (in a batch of its own) the stale first version.
      for (const [i, row] of [...events].reverse().entries()) {
        const id = ids[i] as string;
        const envelope = { id, type: row.type, occurredAt: new Date(row.occurred_at).toISOString(), actor: row.actor, data: row.data, traceparent: row.traceparent };
        await sender.sendMessages({ messageId: id, subject: row.type, contentType: "application/json", body: envelope });
        await until("the repeat handled", async () => ((await db.sql`select 1 from inbox where subscription = 'item-analysis' and message_id = ${id}`).length > 0 ? true : undefined));
      }
    } finally {
      await sender.close();
      await client.close();
    }
    expect(await contributions()).toEqual(before.contributions);
    expect(await sums()).toEqual(before.sums);
    expect(await report()).toEqual(before.report);
  }, 60_000);

  it("counts each learner's first attempt only: a second attempt's published grade changes nothing", async () => {
    const before = { contributions: await contributions(), sums: await sums(), report: await report() };
    expect(before.report).toMatchObject({ attemptsCounted: "first", submissions: 12 });
    const learner = learners[8]!;
    const attempt = await jsonOf(await call(app, "POST", `/v1/assessments/${quizId}/attempts`, { token: learner.accessToken }));
    expect(attempt.number).toBe(2);
    const retake = { q1: "c", q2: true, q3: ["x", "y"], q4: 42 };
    expect((await call(app, "PUT", `/v1/attempts/${attempt.id as string}/answers`, { token: learner.accessToken, body: { answers: retake, itemSeconds: { q1: 3 } } })).status).toBe(200);
    expect((await call(app, "POST", `/v1/attempts/${attempt.id as string}/submit`, { token: learner.accessToken })).status).toBe(200);
    await until("the retake's grade handled by the item analysis", async () =>
      (await db.sql`select 1 from outbox o join inbox i on i.subscription = 'item-analysis' and i.message_id = o.id::text where o.type = 'grade.published' and o.aggregate_id = ${attempt.id as string}`).length > 0 ? true : undefined,
    );
    expect(await contributions()).toEqual(before.contributions);
    expect(await sums()).toEqual(before.sums);
    expect(await report()).toEqual(before.report);
  }, 60_000);
});
