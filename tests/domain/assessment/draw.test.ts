import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { candidateSetHash, drawItems, type DrawInput, drawnSources, storedDrawInput, totalPoints, versionKey } from "../../../domain/assessment/draw.js";
import type { Item, ItemSource, Pool } from "../../../domain/db/schema/assessment-json.js";

const bankId = "0190a1b2-0000-7000-8000-000000000000";
const itemId = (n: number) => `0190a1b2-0000-7000-8000-${String(n).padStart(12, "0")}`;
const choiceItem = (id: string): Item => ({ id, type: "single", points: 1, prompt: id, choices: ["a", "b", "c", "d"].map((c) => ({ id: c, text: c.toUpperCase() })) });
const candidate = (n: number): ItemSource => ({ bankId, itemId: itemId(n), version: 1 + (n % 3) });
/** Every candidate's content, by version: drawItems reads the drawn ones'. */
const contents = new Map(Array.from({ length: 30 }, (_, n) => [versionKey(candidate(n)), choiceItem(itemId(n))]));
const pool = (id: string, count: number, extra: Partial<Pool> = {}): Pool => ({ id, bankId, count, tags: [], ...extra });
const fixed: Item[] = [choiceItem("f1"), { id: "f2", type: "true-false", points: 2, prompt: "" }];

/** Two pools sharing candidates 5..9 (drawn without repeats), fixed items, everything shuffled. */
const input = (seed: number, over: Partial<DrawInput> = {}): DrawInput => ({
  seed,
  fixed,
  pools: [
    { pool: pool("p1", 3), candidates: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(candidate) },
    { pool: pool("p2", 4, { points: 5 }), candidates: [5, 6, 7, 8, 9, 10, 11].map(candidate) },
  ],
  shuffleItems: true,
  shuffleChoices: true,
  ...over,
});

const drawn = (seed: number, over: Partial<DrawInput> = {}) => {
  const out = drawItems(input(seed, over), contents);
  if (!out.ok) throw new Error(`short: ${JSON.stringify(out.shortfall)}`);
  return out;
};

describe("drawItems", () => {
  it("draws the same items, order and choice order from the same seed and candidates", () => {
    expect(drawn(42)).toEqual(drawn(42));
    expect(drawn(42).draw.seed).toBe(42);
  });

  it("draws each pool's count without repeats across pools, keeps the fixed items and stores the sources", () => {
    const { items, draw } = drawn(7);
    expect(items).toHaveLength(fixed.length + 3 + 4);
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    expect(items.map((i) => i.id)).toEqual(expect.arrayContaining(["f1", "f2"]));
    expect(draw.pools.map((p) => [p.poolId, p.drawn.length, p.candidateSet])).toEqual([
      ["p1", 3, candidateSetHash([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(candidate))],
      ["p2", 4, candidateSetHash([5, 6, 7, 8, 9, 10, 11].map(candidate))],
    ]);
    const fromP2 = new Set(draw.pools[1]?.drawn.map((s) => s.itemId));
    for (const item of items.filter((i) => i.source)) {
      expect(item.points).toBe(fromP2.has(item.id) ? 5 : 1);
      expect(item.source?.version).toBe(1 + (Number(item.id.slice(-12)) % 3));
    }
    expect(draw.order).toEqual(items.map((i) => i.id));
  });

  it("shuffles items and choices as permutations, recording each choice order", () => {
    const { items, draw } = drawn(99);
    for (const item of items) {
      if (item.type !== "single") continue;
      expect([...item.choices.map((c) => c.id)].sort()).toEqual(["a", "b", "c", "d"]);
      expect(draw.choiceOrder[item.id]).toEqual(item.choices.map((c) => c.id));
    }
    expect(draw.choiceOrder.f2).toBeUndefined();
  });

  it("leaves fixed order and choices alone when shuffling is off", () => {
    const { items, draw } = drawn(3, { shuffleItems: false, shuffleChoices: false });
    expect(items.slice(0, 2).map((i) => i.id)).toEqual(["f1", "f2"]);
    expect(draw.choiceOrder).toEqual({});
    for (const item of items) if (item.type === "single") expect(item.choices.map((c) => c.id)).toEqual(["a", "b", "c", "d"]);
  });

  it("never draws a bank item whose id a fixed item already uses", () => {
    const copied = input(5, { fixed: [choiceItem(itemId(0))], pools: [{ pool: pool("p1", 2), candidates: [0, 1, 2].map(candidate) }] });
    const out = drawItems(copied, contents);
    expect(out.ok && out.items.map((i) => i.id).sort()).toEqual([itemId(0), itemId(1), itemId(2)]);
  });

  it("draws again from the stored record alone: settings, pools, fixed ids; fixed items as presented (shuffled choices)", () => {
    for (const seed of [1, 99, 4242]) {
      const input1 = input(seed, { fixed: [{ ...choiceItem("f1"), choices: ["c", "a", "d", "b"].map((c) => ({ id: c, text: c.toUpperCase() })) } as Item, fixed[1] as Item] });
      const first = drawItems(input1, contents);
      if (!first.ok) throw new Error("short");
      expect(first.draw).toMatchObject({ shuffleItems: true, shuffleChoices: true, fixedItemIds: ["f1", "f2"] });
      expect(first.draw.pools.map((p) => p.pool)).toEqual(input1.pools.map((p) => p.pool));
      const view = { ...first.draw, pools: first.draw.pools.map((p, i) => ({ ...p, candidates: input1.pools[i]?.candidates ?? [] })) };
      // Only what was stored: the presented items (fixed ones with their choices already shuffled) and the draw.
      expect(drawItems(storedDrawInput(view, first.items), contents)).toEqual(first);
    }
  });

  it("names the pool that comes up short", () => {
    const short = input(1, { pools: [{ pool: pool("p1", 3), candidates: [0, 1].map(candidate) }] });
    expect(drawItems(short, contents)).toEqual({ ok: false, shortfall: { poolId: "p1", count: 3, available: 2 } });
    expect(drawnSources(short)).toEqual({ ok: false, shortfall: { poolId: "p1", count: 3, available: 2 } });
  });

  it("names up front the versions it will draw, so only their content need be read", () => {
    const { draw } = drawn(11);
    expect(drawnSources(input(11))).toEqual({ ok: true, drawn: draw.pools.flatMap((p) => p.drawn) });
    const only = new Map(draw.pools.flatMap((p) => p.drawn).map((s) => [versionKey(s), contents.get(versionKey(s)) as Item]));
    expect(drawItems(input(11), only)).toEqual(drawn(11));
  });

  it("gives different learners different draws: 200 seeds give many distinct draws, each candidate drawn sometimes", () => {
    const draws = Array.from({ length: 200 }, (_, seed) => drawn(seed * 7919 + 1).draw);
    const distinct = new Set(draws.map((d) => d.order.join(",")));
    expect(distinct.size).toBeGreaterThan(190);
    const counts = new Map<string, number>();
    for (const d of draws) for (const s of d.pools.flatMap((p) => p.drawn)) counts.set(s.itemId, (counts.get(s.itemId) ?? 0) + 1);
    // 12 candidates, 7 drawn each time: every one appears, none every time.
    expect(counts.size).toBe(12);
    for (const n of counts.values()) expect(n).toBeLessThan(200);
  });

  it("property: any seed and pool sizes give a deterministic draw without repeats, or a shortfall", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.record({ count: fc.integer({ min: 1, max: 5 }), from: fc.integer({ min: 0, max: 10 }), size: fc.integer({ min: 0, max: 8 }) }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        (seed, shapes, shuffleItems, shuffleChoices) => {
          const pools = shapes.map((s, i) => ({ pool: pool(`p${i}`, s.count), candidates: Array.from({ length: s.size }, (_, k) => candidate(s.from + k)) }));
          const one = drawItems({ seed, fixed, pools, shuffleItems, shuffleChoices }, contents);
          expect(drawItems({ seed, fixed, pools, shuffleItems, shuffleChoices }, contents)).toEqual(one);
          if (!one.ok) return;
          const ids = one.items.map((i) => i.id);
          expect(new Set(ids).size).toBe(ids.length);
          expect(ids.length).toBe(fixed.length + shapes.reduce((n, s) => n + s.count, 0));
          one.draw.pools.forEach((p, i) => {
            const allowed = new Set(pools[i]?.candidates.map((c) => c.itemId));
            expect(p.drawn.every((s) => allowed.has(s.itemId))).toBe(true);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("totalPoints", () => {
  it("adds pools' count × points, and is null when a pool keeps its items' own points (they vary per draw)", () => {
    expect(totalPoints({ items: fixed, pools: [pool("p1", 3, { points: 2 })] })).toBe(1 + 2 + 6);
    expect(totalPoints({ items: fixed, pools: [pool("p1", 3, { points: 2 }), pool("p2", 1)] })).toBeNull();
    expect(totalPoints({ items: fixed, pools: [] })).toBe(3);
  });
});
