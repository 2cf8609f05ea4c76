import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drawItems, storedDrawInput, versionKey } from "../../domain/assessment/draw.js";
import type { AttemptDrawView, Item, ItemKey, ItemScore, Pool, PresentedItem } from "../../domain/db/schema/assessment-json.js";
import type { Answer } from "../../domain/grading/items.js";
import { expectJson, type RunningApp, startApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { insertLearners } from "../support/enrollment-fixtures.js";
import { call, signUp, type TestUser } from "../support/identity.js";
import { localClaims, nowSeconds, signHs256 } from "../support/tokens.js";
import { expectedAnalysis } from "../support/item-statistics.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// A pooled, shuffled quiz taken by 30 learners, graded, and regraded reproducibly (issue 20), through the HTTP API,
// the outbox, the bus and the grading orchestrations of one app.

/**
 * What each learner answered and scored, per presented item: the raw material for item statistics (facility,
 * discrimination, distractor counts, mean time), so they can be recomputed independently of the app.
 * `version` is the bank item version for drawn items, null for the assessment's fixed items.
 */
export interface PooledResponse {
  userId: string;
  submissionId: string;
  items: { itemId: string; version: number | null; points: number; maxPoints: number; picked: string[] | null; seconds: number }[];
}
export const pooledResponses: PooledResponse[] = [];

let db: TestDatabase;
let app: RunningApp;
let instructor: TestUser;
let courseId: string;
let otherCourseId: string;
let bankId: string;
let otherBankId: string;
let quizId: string;
const LEARNERS = 30;
const learners: { id: string; token: string }[] = [];
/** Bank items as created (version 1), with their keys. */
const bank = new Map<string, { item: Item; key: ItemKey; tags: string[] }>();
const taken: { userId: string; token: string; attemptId: string; items: PresentedItem[]; answers: Record<string, Answer> }[] = [];

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000) => waitFor(what, probe, { timeoutMs, stepMs: 250, diagnostics: () => recentErrors(app) });

const fixedItems: Item[] = [
  { id: "f1", type: "single", points: 1, prompt: "Which is prime?", choices: ["4", "6", "7", "9"].map((t, i) => ({ id: `c${i}`, text: t })) },
  { id: "f2", type: "true-false", points: 1, prompt: "Zero is even." },
];
const fixedKeys: Record<string, ItemKey> = { f1: { type: "single", correct: "c2" }, f2: { type: "true-false", correct: true } };
const pools: Pool[] = [
  { id: "alg", bankId: "", count: 2, tags: ["algebra"] },
  { id: "geo", bankId: "", count: 2, tags: ["geometry"], points: 2 },
];

/** Deterministic right/wrong per learner and item: about two thirds right. */
const answersRight = (learner: number, itemId: string) => [...`${learner}:${itemId}`].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 3 !== 0;

function answerFor(item: Item, key: ItemKey, right: boolean): Answer {
  if (key.type === "single" && "choices" in item) return right ? key.correct : (item.choices.find((c) => c.id !== key.correct)?.id as string);
  if (key.type === "true-false") return right ? key.correct : !key.correct;
  if (key.type === "numeric" && key.mode === "exact") return right ? key.value : key.value + 100;
  throw new Error(`no answer rule for ${item.type}`);
}

const scoreOf = (item: Item, key: ItemKey, answer: Answer) => (JSON.stringify(answerFor(item, key, true)) === JSON.stringify(answer) ? item.points : 0);
const round2 = (n: number) => Math.round(n * 100) / 100;

type NewItem = Item extends infer I ? (I extends Item ? Omit<I, "id"> : never) : never;

async function addBankItem(target: string, item: NewItem, key: ItemKey, tags: string[], status?: "draft") {
  const created = await expectJson<{ id: string; item: Item }>(await call(app, "POST", `/v1/question-banks/${target}/items`, { token: instructor.accessToken, body: { item, key, tags, difficulty: "medium", ...(status ? { status } : {}) } }), 201);
  if (target === bankId && !status) bank.set(created.id, { item: created.item, key, tags });
  return created.id;
}

const keyOf = (itemId: string, keys: Record<string, ItemKey>) => keys[itemId] ?? (bank.get(itemId)?.key as ItemKey);

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url, DATABASE_POOL_MAX: "10", OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", LOCAL_DURABLE_DATA: "memory" } });
  instructor = await signUp(app, db, { admin: true, label: "instructor" });
  const newCourse = async (title: string) => (await expectJson<{ id: string }>(await call(app, "POST", "/v1/courses", { token: instructor.accessToken, body: { title } }), 201)).id;
  courseId = await newCourse("Number sense");
  otherCourseId = await newCourse("Elsewhere");
  await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: instructor.accessToken });
  bankId = (await expectJson<{ id: string }>(await call(app, "POST", `/v1/courses/${courseId}/question-banks`, { token: instructor.accessToken, body: { title: "Arithmetic" } }), 201)).id;
  otherBankId = (await expectJson<{ id: string }>(await call(app, "POST", `/v1/courses/${otherCourseId}/question-banks`, { token: instructor.accessToken, body: { title: "Not yours" } }), 201)).id;
  for (const p of pools) p.bankId = bankId;
  for (let n = 0; n < 6; n++) {
    const choices = ["w", "x", "y", "z"].map((id, i) => ({ id, text: `${n * 4 + i}` }));
    await addBankItem(bankId, { type: "single", points: 1, prompt: `Algebra ${n}`, choices }, { type: "single", correct: ["w", "x", "y", "z"][n % 4] as string }, ["algebra"]);
    if (n % 2 === 0) await addBankItem(bankId, { type: "numeric", points: 1, prompt: `Geometry ${n}` }, { type: "numeric", mode: "exact", value: n * 10 }, ["geometry"]);
    else await addBankItem(bankId, { type: "single", points: 1, prompt: `Geometry ${n}`, choices }, { type: "single", correct: "w" }, ["geometry", "angles"]);
  }
  // A draft is never drawn, and neither is another course's bank's item.
  await addBankItem(bankId, { type: "true-false", points: 1, prompt: "Draft" }, { type: "true-false", correct: true }, ["algebra"], "draft");
  await addBankItem(otherBankId, { type: "true-false", points: 1, prompt: "Elsewhere" }, { type: "true-false", correct: true }, ["algebra"]);
  const ids = await insertLearners(db.sql, LEARNERS + 1, "pooled");
  const rows = ids.map((userId) => ({ id: uuidv7(), course_id: courseId, user_id: userId, status: "active", source: "self" }));
  await db.sql`insert into enrollments ${db.sql(rows, "id", "course_id", "user_id", "status", "source")}`;
  await db.sql`update enrollments set enrolled_at = now() where course_id = ${courseId} and enrolled_at is null`;
  learners.push(...(await Promise.all(ids.map(async (id) => ({ id, token: await signHs256(localClaims(id, { exp: nowSeconds() + 1800 })) })))));
}, 120_000);

const versions = new Map<string, Item>();
const versionItem = async (itemId: string, version: number) => {
  const k = `${itemId}:${version}`;
  if (!versions.has(k)) versions.set(k, (await expectJson<{ item: Item }>(await call(app, "GET", `/v1/bank-items/${itemId}/versions/${version}`, { token: instructor.accessToken }), 200)).item);
  return versions.get(k) as Item;
};

/**
 * Draws an attempt again from its stored record alone (the draw as staff read it, the attempt's presented items and
 * the bank versions): not from the assessment, which a PATCH may have changed since. Same items, same draw.
 */
async function expectDrawnAgain(t: (typeof taken)[number]) {
  const { attemptId: _id, ...draw } = await expectJson<AttemptDrawView & { attemptId: string }>(await call(app, "GET", `/v1/attempts/${t.attemptId}/draw`, { token: instructor.accessToken }), 200);
  expect(draw.pools.map((p) => p.candidates.length)).toEqual([6, 6]);
  expect(draw).toMatchObject({ shuffleItems: true, shuffleChoices: true, fixedItemIds: ["f1", "f2"] });
  expect(draw.pools.map((p) => p.pool)).toEqual(pools);
  const presented = (await expectJson<{ items: PresentedItem[] }>(await call(app, "GET", `/v1/attempts/${t.attemptId}`, { token: instructor.accessToken }), 200)).items;
  const contents = new Map(await Promise.all(draw.pools.flatMap((p) => p.candidates).map(async (s) => [versionKey(s), await versionItem(s.itemId, s.version)] as const)));
  const again = drawItems(storedDrawInput(draw, presented), contents);
  expect(again.ok && again.items).toEqual(t.items);
  expect(again.ok && again.draw).toEqual({ ...draw, pools: draw.pools.map(({ candidates: _c, ...p }) => p) });
  expect(t.items.filter((i) => i.source).map((i) => i.source?.itemId)).toEqual(expect.arrayContaining(draw.pools.flatMap((p) => p.drawn.map((s) => s.itemId))));
  for (const item of t.items.filter((i) => i.source)) expect(item.points).toBe(bank.get(item.id)?.tags.includes("geometry") ? 2 : 1);
}

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

describe("pools, shuffling and seeded draws", () => {
  it("refuses pools that ask for more than the bank has, or name another course's bank, creating nothing", async () => {
    const before = (await db.sql`select count(*)::int as n from assessments`)[0]?.n as number;
    const create = (p: Pool[]) => call(app, "POST", `/v1/courses/${courseId}/assessments`, { token: instructor.accessToken, body: { title: "Too many", kind: "quiz", pools: p } });
    const tooMany = await expectJson<{ code: string; pools: unknown[] }>(await create([{ id: "alg", bankId, count: 7, tags: ["algebra"] }]), 422);
    expect(tooMany.code).toBe("INVALID_ASSESSMENT_SETTINGS");
    expect(tooMany.pools).toEqual([{ poolId: "alg", count: 7, matching: 6, earlierPoolsMayTake: 0 }]);
    // Together: "angles" items (3) are all geometry; geometry (6) less what "angles" may take (3) cannot give 4.
    const overlapping = await expectJson<{ pools: unknown[] }>(
      await create([
        { id: "angles", bankId, count: 3, tags: ["angles"] },
        { id: "geo", bankId, count: 4, tags: ["geometry"] },
      ]),
      422,
    );
    expect(overlapping.pools).toEqual([{ poolId: "geo", count: 4, matching: 6, earlierPoolsMayTake: 3 }]);
    const foreign = await expectJson<{ code: string; detail: string }>(await create([{ id: "x", bankId: otherBankId, count: 1, tags: [] }]), 422);
    expect(foreign.detail).toContain("no question bank");
    expect((await expectJson<{ code: string }>(await create([]), 422)).code).toBe("INVALID_ASSESSMENT_SETTINGS");
    // A fixed item whose id is a bank item's is never drawn: the pool counts one fewer (every start would fail otherwise).
    const algebraIds = [...bank.entries()].filter(([, b]) => b.tags.includes("algebra")).map(([id]) => id);
    const copied = await expectJson<{ pools: unknown[] }>(
      await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
        token: instructor.accessToken,
        body: { title: "Copied id", kind: "quiz", items: [{ id: algebraIds[0], type: "true-false", points: 1, prompt: "Copied" }], keys: { [algebraIds[0] as string]: { type: "true-false", correct: true } }, pools: [{ id: "alg", bankId, count: 6, tags: ["algebra"] }] },
      }),
      422,
    );
    expect(copied.pools).toEqual([{ poolId: "alg", count: 6, matching: 5, earlierPoolsMayTake: 0 }]);
    expect((await db.sql`select count(*)::int as n from assessments`)[0]?.n).toBe(before);
  });

  it("draws, shuffles and grades a quiz taken by 30 learners, each draw reproducible from its stored seed", async () => {
    const quiz = await expectJson<{ id: string; pools: Pool[]; shuffleItems: boolean; totalPoints: number | null }>(
      await call(app, "POST", `/v1/courses/${courseId}/assessments`, {
        token: instructor.accessToken,
        body: { title: "Pooled", kind: "quiz", items: fixedItems, keys: fixedKeys, pools, shuffleItems: true, shuffleChoices: true },
      }),
      201,
    );
    quizId = quiz.id;
    // The "alg" pool keeps its items' own points, which differ per draw: no one total is honest.
    expect(quiz).toMatchObject({ pools, shuffleItems: true, shuffleChoices: true, totalPoints: null });

    // 30 learners at once, six at a time: start, save answers (with per-item time), submit.
    const notDrawnBy = (attempt: { items: PresentedItem[] }) => [...bank.keys()].find((id) => !attempt.items.some((i) => i.id === id)) as string;
    for (let from = 0; from < LEARNERS; from += 6) {
      await Promise.all(
        learners.slice(from, from + 6).map(async (learner, k) => {
          const index = from + k;
          const attempt = await expectJson<{ id: string; items: PresentedItem[] }>(await call(app, "POST", `/v1/assessments/${quizId}/attempts`, { token: learner.token }), 201);
          expect(attempt.items).toHaveLength(6);
          expect(JSON.stringify(attempt.items)).not.toMatch(/"correct"|"key"/);
          // The learner is not told which bank item and version they drew: staff are (below, from the stored attempt).
          expect(attempt.items.filter((i) => "source" in i)).toEqual([]);
          // As if the learner had worked for an hour: item times are capped at the time the attempt has been open.
          await db.sql`update attempts set started_at = started_at - interval '1 hour' where id = ${attempt.id}`;
          const answers = Object.fromEntries(attempt.items.map((item) => [item.id, answerFor(item, keyOf(item.id, fixedKeys), answersRight(index, item.id))]));
          const seconds = Object.fromEntries(attempt.items.map((item, i) => [item.id, 5 + i + index]));
          if (index === 0) {
            // Answers and times for an item this attempt does not present are refused, and nothing is saved.
            const stranger = notDrawnBy(attempt);
            for (const body of [{ answers: { [stranger]: "w" } }, { itemSeconds: { [stranger]: 3 } }]) {
              expect((await expectJson<{ code: string }>(await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.token, body }), 422)).code).toBe("INVALID_ANSWER");
            }
            expect(await expectJson(await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.token, body: { itemSeconds: { [attempt.items[0]?.id as string]: 1.5 } } }), 200)).toMatchObject({ answers: {} });
            const firstId = attempt.items[0]?.id as string;
            seconds[firstId] = (seconds[firstId] ?? 0) + 1.5;
            // The attempt as its learner reads it again: the same items in the same order.
            expect((await expectJson<{ items: PresentedItem[] }>(await call(app, "GET", `/v1/attempts/${attempt.id}`, { token: learner.token }), 200)).items).toEqual(attempt.items);
            expect((await call(app, "GET", `/v1/attempts/${attempt.id}`, { token: learners[1]?.token })).status).toBe(403);
            expect((await call(app, "GET", `/v1/attempts/${attempt.id}/draw`, { token: learner.token })).status).toBe(403);
          }
          await expectJson(await call(app, "PUT", `/v1/attempts/${attempt.id}/answers`, { token: learner.token, body: { answers, itemSeconds: Object.fromEntries(attempt.items.map((item, i) => [item.id, 5 + i + index])) } }), 200);
          await expectJson(await call(app, "POST", `/v1/attempts/${attempt.id}/submit`, { token: learner.token }), 200);
          const [stored] = await db.sql<{ item_seconds: Record<string, number>; items: PresentedItem[] }[]>`select item_seconds, items from attempts where id = ${attempt.id}`;
          expect(stored?.item_seconds).toEqual(seconds);
          expect(stored?.items.map(({ source: _source, ...item }) => item)).toEqual(attempt.items);
          taken[index] = { userId: learner.id, token: learner.token, attemptId: attempt.id, items: stored?.items ?? [], answers };
        }),
      );
    }

    // Each learner's presented items are what drawing again from the stored record alone gives.
    for (const t of taken) await expectDrawnAgain(t);
    // Each pool's candidate list is stored once, not in each of the 30 draws.
    expect((await db.sql`select count(*)::int as n from draw_candidate_sets`)[0]?.n).toBe(2);
    expect((await db.sql`select count(*)::int as n from attempts where assessment_id = ${quizId} and draw::text like '%candidates%'`)[0]?.n).toBe(0);
    // Learners got different draws and orders (30 draws from C(6,2)² × 6! orders: repeats are rare).
    expect(new Set(taken.map((t) => t.items.map((i) => i.id).join(","))).size).toBeGreaterThanOrEqual(28);
    expect(new Set(taken.map((t) => t.items.filter((i) => i.source).map((i) => i.id).sort().join(","))).size).toBeGreaterThan(10);

    // Graded through the orchestrations: each learner's grade scores the items they were given.
    const grades = await until("30 grades", async () => {
      const rows = await db.sql<{ submission_id: string; percent: number; item_scores: ItemScore[] }[]>`select submission_id, percent, item_scores from grades where assessment_id = ${quizId} and version = 1`;
      return rows.length === LEARNERS ? new Map(rows.map((r) => [r.submission_id, r])) : undefined;
    });
    for (const t of taken) {
      const grade = grades.get(t.attemptId);
      const max = t.items.reduce((s, i) => s + i.points, 0);
      const earned = t.items.reduce((s, i) => s + scoreOf(i, keyOf(i.id, fixedKeys), t.answers[i.id] ?? null), 0);
      expect(grade?.percent).toBe(round2((earned / max) * 100));
      expect(grade?.item_scores.map((s) => s.itemId).sort()).toEqual(t.items.map((i) => i.id).sort());
      for (const s of grade?.item_scores ?? []) expect(s.source).toEqual(t.items.find((i) => i.id === s.itemId)?.source);
    }

    const seconds = new Map((await db.sql<{ id: string; item_seconds: Record<string, number> }[]>`select id, item_seconds from attempts where assessment_id = ${quizId}`).map((r) => [r.id, r.item_seconds]));
    for (const t of taken) {
      const scores = grades.get(t.attemptId)?.item_scores ?? [];
      pooledResponses.push({
        userId: t.userId,
        submissionId: t.attemptId,
        items: t.items.map((item) => {
          const answer = t.answers[item.id];
          const score = scores.find((s) => s.itemId === item.id);
          return {
            itemId: item.id,
            version: item.source?.version ?? null,
            points: score?.points ?? 0,
            maxPoints: score?.maxPoints ?? item.points,
            picked: item.type === "single" ? [answer as string] : item.type === "multiple" ? (answer as string[]) : item.type === "true-false" ? [String(answer)] : null,
            seconds: seconds.get(t.attemptId)?.[item.id] ?? 0,
          };
        }),
      });
    }
    expect(pooledResponses).toHaveLength(LEARNERS);

    // Item analysis after the 30 grades (the item-analysis subscription on grade.published): each item version's
    // figures are what the textbook formulas give on these responses, computed here without the app.
    const versionOf = (i: { itemId: string; version: number | null }) => `${i.itemId}:${i.version ?? 1}`;
    const seen = pooledResponses.flatMap((r) => r.items);
    const itemIds = [...new Set(seen.map(versionOf))].sort();
    const expected = expectedAnalysis({
      itemIds,
      max: itemIds.map((k) => seen.find((i) => versionOf(i) === k)?.maxPoints as number),
      responses: pooledResponses.map((r) =>
        itemIds.map((k) => {
          const i = r.items.find((x) => versionOf(x) === k);
          return i ? { points: i.points, picked: i.picked ?? [], seconds: i.seconds } : null;
        }),
      ),
    });
    type Analysis = { submissions: number; alpha: number | null; alphaReason: string | null; items: { itemId: string; itemVersion: number; n: number; facility: number | null; discrimination: number | null; meanSeconds: number | null; choices: { id: string; picks: number }[] | null }[] };
    const analysis = await until("the 30 grades analysed", async () => {
      const r = await expectJson<Analysis>(await call(app, "GET", `/v1/assessments/${quizId}/item-analysis`, { token: instructor.accessToken }), 200);
      return r.submissions === LEARNERS ? r : undefined;
    });
    // Learners saw different items: alpha needs one form, and says so.
    expect(analysis.alpha).toBeNull();
    expect(analysis.alphaReason).toEqual(expect.any(String));
    expect(analysis.items.map((i) => `${i.itemId}:${i.itemVersion}`).sort()).toEqual(itemIds);
    expect(analysis.items.reduce((s, i) => s + i.n, 0)).toBe(LEARNERS * 6);
    for (const item of analysis.items) {
      const want = expected.items[itemIds.indexOf(`${item.itemId}:${item.itemVersion}`)] as (typeof expected.items)[number];
      expect(item.n, item.itemId).toBe(want.n);
      expect(item.facility, item.itemId).toBeCloseTo(want.facility as number, 6);
      if (want.discrimination === null) expect(item.discrimination, item.itemId).toBeNull();
      else expect(item.discrimination, item.itemId).toBeCloseTo(want.discrimination, 6);
      expect(item.meanSeconds, item.itemId).toBeCloseTo(want.meanSeconds as number, 6);
      for (const c of item.choices ?? []) expect(c.picks, `${item.itemId}/${c.id}`).toBe(want.picks[c.id] ?? 0);
    }
  }, 180_000);

  it("regrades after a key change with the items and bank versions each learner saw; a bank item edited since changes no grade", async () => {
    // A drawn bank item gets a new version with another key after the attempts: their grades must not follow it.
    // One a learner answered right, so a grade that followed the new version would lose its points.
    const edited = taken.flatMap((t) => t.items.filter((i) => i.source && i.type === "single" && t.answers[i.id] === (bank.get(i.id)?.key as { correct: string }).correct))[0] as PresentedItem;
    const current = await call(app, "GET", `/v1/bank-items/${edited.id}`, { token: instructor.accessToken });
    const etag = current.headers.get("etag") as string;
    const { item: stored } = (await current.json()) as { item: Item };
    const oldKey = bank.get(edited.id)?.key as ItemKey & { type: "single" };
    const newKey = { type: "single", correct: ["w", "x", "y", "z"].find((c) => c !== oldKey.correct) } as ItemKey;
    await expectJson(await call(app, "PUT", `/v1/bank-items/${edited.id}`, { token: instructor.accessToken, body: { item: { ...stored, prompt: "Changed" }, key: newKey }, headers: { "if-match": etag } }), 200);

    // The fixed true/false item's key flips: every submission is regraded (a new grade version each).
    const changedKeys = { ...fixedKeys, f2: { type: "true-false", correct: false } as ItemKey };
    await expectJson(await call(app, "PATCH", `/v1/assessments/${quizId}`, { token: instructor.accessToken, body: { keys: changedKeys } }), 200);
    const before = new Map((await db.sql<{ submission_id: string; item_scores: ItemScore[] }[]>`select submission_id, item_scores from grades where assessment_id = ${quizId} and version = 1`).map((r) => [r.submission_id, r.item_scores]));
    const regraded = await until("30 regrades", async () => {
      const rows = await db.sql<{ submission_id: string; percent: number; key_version: number; item_scores: ItemScore[] }[]>`select submission_id, percent, key_version, item_scores from grades where assessment_id = ${quizId} and version = 2`;
      return rows.length === LEARNERS ? new Map(rows.map((r) => [r.submission_id, r])) : undefined;
    });
    for (const t of taken) {
      const grade = regraded.get(t.attemptId);
      expect(grade?.key_version).toBe(2);
      const max = t.items.reduce((s, i) => s + i.points, 0);
      const earned = t.items.reduce((s, i) => s + scoreOf(i, keyOf(i.id, changedKeys), t.answers[i.id] ?? null), 0);
      expect(grade?.percent).toBe(round2((earned / max) * 100));
      const old = new Map((before.get(t.attemptId) ?? []).map((s) => [s.itemId, s]));
      for (const s of grade?.item_scores ?? []) {
        // Same items, same sources and versions; only the changed item's score moves.
        expect(s.source).toEqual(old.get(s.itemId)?.source);
        if (s.itemId === "f2") expect(s.points).toBe(1 - (old.get("f2")?.points as number));
        else expect(s.points).toBe(old.get(s.itemId)?.points);
      }
      const again = await expectJson<{ items: PresentedItem[] }>(await call(app, "GET", `/v1/attempts/${t.attemptId}`, { token: instructor.accessToken }), 200);
      expect(again.items).toEqual(t.items);
    }
  }, 120_000);

  it("keeps earlier attempts' items when the pools change, and refuses a start whose pool has run short since", async () => {
    await expectJson(await call(app, "PATCH", `/v1/assessments/${quizId}`, { token: instructor.accessToken, body: { pools: [{ ...pools[0], count: 3 }], shuffleItems: false } }), 200);
    const first = taken[0] as (typeof taken)[number];
    expect((await expectJson<{ items: PresentedItem[] }>(await call(app, "GET", `/v1/attempts/${first.attemptId}`, { token: first.token }), 200)).items).toEqual(first.items.map(({ source: _source, ...item }) => item));
    // Drawn again from the stored record alone, with the settings it was drawn with (shuffled), not the PATCHed ones.
    for (const t of taken.slice(0, 5)) await expectDrawnAgain(t);
    // Four of the six algebra items are retired: the pool asks for three, a new learner's start is refused.
    const algebra = [...bank.entries()].filter(([, b]) => b.tags.includes("algebra")).map(([id]) => id);
    for (const id of algebra.slice(0, 4)) await expectJson(await call(app, "POST", `/v1/bank-items/${id}/retire`, { token: instructor.accessToken }), 200);
    const late = learners[LEARNERS] as { id: string; token: string };
    const refused = await expectJson<{ code: string; poolId: string; count: number; available: number }>(await call(app, "POST", `/v1/assessments/${quizId}/attempts`, { token: late.token }), 409);
    expect(refused).toMatchObject({ code: "POOL_EXHAUSTED", poolId: "alg", count: 3, available: 2 });
    expect(await db.sql`select 1 from attempts where user_id = ${late.id}`).toHaveLength(0);
    // Changing the pools is checked against the bank as it is now.
    expect((await expectJson<{ code: string }>(await call(app, "PATCH", `/v1/assessments/${quizId}`, { token: instructor.accessToken, body: { pools: [{ ...pools[0], count: 3 }] } }), 422)).code).toBe("INVALID_ASSESSMENT_SETTINGS");
    // Without pools or shuffling an attempt stores no draw: it presents the assessment's items.
    await expectJson(await call(app, "PATCH", `/v1/assessments/${quizId}`, { token: instructor.accessToken, body: { pools: [], shuffleChoices: false } }), 200);
    const plain = await expectJson<{ id: string; items: PresentedItem[] }>(await call(app, "POST", `/v1/assessments/${quizId}/attempts`, { token: late.token }), 201);
    expect(plain.items).toEqual(fixedItems);
    expect((await db.sql<{ items: unknown; draw: unknown }[]>`select items, draw from attempts where id = ${plain.id}`)[0]).toEqual({ items: null, draw: null });
    expect((await expectJson<{ code: string }>(await call(app, "GET", `/v1/attempts/${plain.id}/draw`, { token: instructor.accessToken }), 404)).code).toBe("DRAW_NOT_FOUND");
    // A client's item times add up to no more than the attempt has been open.
    for (let i = 0; i < 2; i++) await expectJson(await call(app, "PUT", `/v1/attempts/${plain.id}/answers`, { token: late.token, body: { itemSeconds: { f1: 86_400 } } }), 200);
    const [timed] = await db.sql<{ f1: number; open: number }[]>`select (item_seconds->>'f1')::float8 as f1, extract(epoch from now() - started_at)::float8 as open from attempts where id = ${plain.id}`;
    expect(timed?.f1).toBeGreaterThan(0);
    expect(timed?.f1).toBeLessThanOrEqual(timed?.open as number);
    // No pool names the bank now, but 30 attempts drew from it (their regrades read its versions): it stays.
    const inUse = await expectJson<{ code: string; assessmentIds: string[] }>(await call(app, "DELETE", `/v1/question-banks/${bankId}`, { token: instructor.accessToken }), 409);
    expect(inUse).toMatchObject({ code: "QUESTION_BANK_IN_USE", assessmentIds: [quizId] });
    expect(await db.sql`select 1 from bank_item_versions v join bank_items i on i.id = v.item_id where i.bank_id = ${bankId}`).not.toHaveLength(0);
  });
});
