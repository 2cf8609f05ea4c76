import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PresentedItem } from "../../../domain/db/schema/assessment-json.js";
import { type Contribution, contributionOf } from "../../../domain/item-analysis/contributions.js";
import { type Change, sumDeltas } from "../../../domain/item-analysis/sum-deltas.js";

const items: PresentedItem[] = [
  { id: "q1", type: "single", points: 2, prompt: "", choices: [{ id: "a", text: "A" }, { id: "b", text: "B" }, { id: "c", text: "C" }] },
  { id: "q2", type: "true-false", points: 1, prompt: "" },
  { id: "q3", type: "multiple", points: 3, prompt: "", partialCredit: "per-choice", choices: [{ id: "x", text: "X" }, { id: "y", text: "Y" }] },
  { id: "b-item", type: "numeric", points: 4, prompt: "", source: { bankId: "bank", itemId: "b-item", version: 3 } },
];

describe("a grade's contribution", () => {
  it("takes raw item points, the rest score, picked choices (true-false as true/false) and reported seconds", () => {
    const c = contributionOf({
      items,
      itemScores: [
        { itemId: "q1", points: 2, maxPoints: 2, status: "auto", explanation: "" },
        { itemId: "q2", points: 0, maxPoints: 1, status: "auto", explanation: "" },
        { itemId: "q3", points: 1.5, maxPoints: 3, status: "auto", explanation: "" },
        { itemId: "b-item", points: 4, maxPoints: 5, status: "auto", explanation: "", source: { bankId: "bank", itemId: "b-item", version: 3 } },
      ],
      answers: { q1: "a", q2: false, q3: ["x", "zz", "x"], "b-item": 3 },
      itemSeconds: { q1: 12, q3: -1 },
    });
    expect(c.total).toBe(7.5);
    expect(c.items).toEqual([
      { itemId: "q1", itemVersion: 1, itemType: "single", maxPoints: 2, score: 2, rest: 5.5, seconds: 12, choices: ["a"] },
      { itemId: "q2", itemVersion: 1, itemType: "true-false", maxPoints: 1, score: 0, rest: 7.5, seconds: null, choices: ["false"] },
      { itemId: "q3", itemVersion: 1, itemType: "multiple", maxPoints: 3, score: 1.5, rest: 6, seconds: null, choices: ["x"] },
      { itemId: "b-item", itemVersion: 3, itemType: "numeric", maxPoints: 5, score: 4, rest: 3.5, seconds: null, choices: [] },
    ]);
  });
});

// Sums kept the way the subscription keeps them (applying each batch's deltas) must equal the sums computed from
// scratch over each submission's newest grade, whatever the order of grades, repeats and regrades.
type Grade = { submission: number; version: number; contribution: Contribution };

const contribution = fc
  // q1 drawn at 2 or 4 points (a pool's points changed): a regrade must take out the max its old grade put in
  .record({ scores: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.boolean(), fc.integer({ min: 0, max: 3 })), max1: fc.constantFrom(2, 4), pick: fc.constantFrom("a", "b", "c"), seconds: fc.option(fc.integer({ min: 0, max: 300 })) })
  .map(({ scores: [s1, s2, s3], max1, pick, seconds }) =>
    contributionOf({
      items: items.slice(0, 3),
      itemScores: [
        { itemId: "q1", points: s1, maxPoints: max1, status: "auto", explanation: "" },
        { itemId: "q2", points: s2 ? 1 : 0, maxPoints: 1, status: "auto", explanation: "" },
        { itemId: "q3", points: s3, maxPoints: 3, status: "auto", explanation: "" },
      ],
      answers: { q1: pick, q2: s2, q3: s3 > 1 ? ["x", "y"] : ["y"] },
      itemSeconds: seconds === null ? {} : { q1: seconds },
    }),
  );
const grade = fc.record({ submission: fc.integer({ min: 0, max: 5 }), version: fc.integer({ min: 1, max: 4 }), contribution });

type Sums = Record<string, number>;
function addInto(sums: Sums, deltas: ReturnType<typeof sumDeltas>) {
  for (const d of deltas.items) for (const f of ["n", "sumMax", "sumScore", "sumScoreSq", "sumRest", "sumRestSq", "sumScoreRest", "timeN", "timeSum"] as const) sums[`${d.itemId}.${f}`] = (sums[`${d.itemId}.${f}`] ?? 0) + d[f];
  for (const d of deltas.choices) sums[`${d.itemId}.${d.choiceId}`] = (sums[`${d.itemId}.${d.choiceId}`] ?? 0) + d.picks;
  for (const d of deltas.assessments) for (const f of ["n", "sumTotal", "sumTotalSq"] as const) sums[`total.${f}`] = (sums[`total.${f}`] ?? 0) + d[f];
}
const nonZero = (sums: Sums) => Object.fromEntries(Object.entries(sums).filter(([, v]) => Math.abs(v) > 1e-9));

describe("the running sums", () => {
  it("equal a from-scratch computation after any sequence of first grades, regrades, repeats and stale versions", () => {
    fc.assert(
      fc.property(fc.array(fc.array(grade, { minLength: 1, maxLength: 4 }), { maxLength: 12 }), (batches) => {
        const counted = new Map<number, Grade>();
        const incremental: Sums = {};
        for (const batch of batches) {
          // as applyGrades: per submission the batch's newest version, applied only when newer than the counted one
          const newest = new Map<number, Grade>();
          for (const g of batch) if ((newest.get(g.submission)?.version ?? 0) < g.version) newest.set(g.submission, g);
          const changes: Change[] = [];
          for (const g of newest.values()) {
            const before = counted.get(g.submission);
            if (before && before.version >= g.version) continue;
            changes.push({ assessmentId: "A", removed: before?.contribution ?? null, added: g.contribution });
            counted.set(g.submission, g);
          }
          addInto(incremental, sumDeltas(changes));
        }
        const scratch: Sums = {};
        addInto(scratch, sumDeltas([...counted.values()].map((g) => ({ assessmentId: "A", removed: null, added: g.contribution }))));
        const [a, b] = [nonZero(incremental), nonZero(scratch)];
        expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
        for (const k of Object.keys(b)) expect(a[k]).toBeCloseTo(b[k] as number, 9);
      }),
      { numRuns: 200 },
    );
  });

  it("sorts the rows by key, so concurrent batches lock shared rows in one order", () => {
    const c = (id: string): Contribution => ({ total: 1, items: [{ itemId: id, itemVersion: 1, itemType: "single", maxPoints: 1, score: 1, rest: 0, seconds: null, choices: ["b", "a"] }] });
    const d = sumDeltas([
      { assessmentId: "B", removed: null, added: c("z") },
      { assessmentId: "A", removed: null, added: c("y") },
      { assessmentId: "A", removed: null, added: c("x") },
    ]);
    expect(d.items.map((i) => `${i.assessmentId}/${i.itemId}`)).toEqual(["A/x", "A/y", "B/z"]);
    expect(d.choices.map((i) => `${i.assessmentId}/${i.itemId}/${i.choiceId}`)).toEqual(["A/x/a", "A/x/b", "A/y/a", "A/y/b", "B/z/a", "B/z/b"]);
    expect(d.assessments.map((a) => a.assessmentId)).toEqual(["A", "B"]);
  });
});
