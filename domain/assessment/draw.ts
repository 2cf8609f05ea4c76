import { createHash } from "node:crypto";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus, xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";
import type { AttemptDraw, AttemptDrawView, Item, ItemSource, Pool, PresentedItem } from "../db/schema/assessment-json.js";

export interface DrawInput {
  seed: number;
  fixed: Item[];
  /**
   * Per pool, in the assessment's pool order, its candidates (the bank item versions current at the start) with ids
   * ascending, as `poolCandidates` reads them.
   */
  pools: { pool: Pool; candidates: ItemSource[] }[];
  shuffleItems: boolean;
  shuffleChoices: boolean;
}

export interface PoolShortfall {
  poolId: string;
  count: number;
  /** Candidates left once earlier pools had drawn. */
  available: number;
}

export type DrawOutcome = { ok: true; items: PresentedItem[]; draw: AttemptDraw } | { ok: false; shortfall: PoolShortfall };

/** The key of a bank item version in the items map `drawItems` reads. */
export const versionKey = (s: Pick<ItemSource, "itemId" | "version">) => `${s.itemId}:${s.version}`;

/** The name of a candidate list in `draw_candidate_sets`: sha256 of its JSON (the same list, the same row). */
export const candidateSetHash = (candidates: readonly ItemSource[]) =>
  createHash("sha256")
    .update(JSON.stringify(candidates.map((c) => [c.bankId, c.itemId, c.version])))
    .digest("hex");

/** Shuffles a copy in place with Fisher–Yates, each swap index from the generator (so a seed fixes the permutation). */
function shuffled<T>(rng: RandomGenerator, values: readonly T[], take = values.length): T[] {
  const out = [...values];
  for (let i = 0; i < take; i++) {
    const j = uniformInt(rng, i, out.length - 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out.slice(0, take);
}

/** Each pool draws `count` of its candidates not drawn by an earlier pool, in pool order; the first short pool stops it. */
function pick(rng: RandomGenerator, input: DrawInput): { ok: true; pools: AttemptDraw["pools"] } | { ok: false; shortfall: PoolShortfall } {
  // A fixed item's id is never drawn again (an instructor may have copied a bank item's id): ids stay unique.
  const taken = new Set<string>(input.fixed.map((i) => i.id));
  const pools: AttemptDraw["pools"] = [];
  for (const { pool, candidates } of input.pools) {
    const free = candidates.filter((c) => !taken.has(c.itemId));
    if (free.length < pool.count) return { ok: false, shortfall: { poolId: pool.id, count: pool.count, available: free.length } };
    const drawn = shuffled(rng, free, pool.count);
    for (const s of drawn) taken.add(s.itemId);
    pools.push({ poolId: pool.id, pool, candidateSet: candidateSetHash(candidates), drawn });
  }
  return { ok: true, pools };
}

/** What a seed picks from the pools: the drawn versions per pool, and the generator's state after picking (the draw goes on from it). */
export type PickedDraw = { ok: true; drawn: ItemSource[]; pools: AttemptDraw["pools"]; rngState: readonly number[] } | { ok: false; shortfall: PoolShortfall };

/**
 * What a seed picks (or the short pool): `drawn` is what to load before `drawItems`, so that only the drawn items'
 * content is read, however large the pools' banks are. Pass it on to `drawItems`, which then picks no more.
 */
export function pickDraw(input: DrawInput): PickedDraw {
  const rng = xoroshiro128plus(input.seed >>> 0);
  const picked = pick(rng, input);
  return picked.ok ? { ok: true, drawn: picked.pools.flatMap((p) => p.drawn), pools: picked.pools, rngState: rng.getState() } : picked;
}

/** The bank item versions a seed draws (or the short pool): `pickDraw` without the picking's state. */
export function drawnSources(input: DrawInput): { ok: true; drawn: ItemSource[] } | { ok: false; shortfall: PoolShortfall } {
  const picked = pickDraw(input);
  return picked.ok ? { ok: true, drawn: picked.drawn } : picked;
}

/**
 * An attempt's items from its seed: each pool draws `count` of its candidates not drawn by an earlier pool, then
 * fixed + drawn items are shuffled (when asked), then each choice item's choices (when asked, from id order). `items` holds at least
 * the drawn versions' content, by `versionKey`. Pure: the same seed and candidates give the same items in the same
 * order, which is how a stored draw is explained and checked. `picked`: what `pickDraw` answered for this input.
 */
export function drawItems(input: DrawInput, items: ReadonlyMap<string, Item>, picked: PickedDraw = pickDraw(input)): DrawOutcome {
  if (!picked.ok) return picked;
  const rng = xoroshiro128plusFromState(picked.rngState);
  const drawn = input.pools.flatMap(({ pool }, i) =>
    (picked.pools[i]?.drawn ?? []).map((source): PresentedItem => {
      const item = items.get(versionKey(source));
      if (!item) throw new Error(`drawItems: no content for ${versionKey(source)}`);
      return { ...item, id: source.itemId, ...(pool.points !== undefined ? { points: pool.points } : {}), source };
    }),
  );
  const pools = picked.pools;
  const ordered = input.shuffleItems ? shuffled(rng, [...input.fixed, ...drawn]) : [...input.fixed, ...drawn];
  const choiceOrder: Record<string, string[]> = {};
  const presented = ordered.map((item): PresentedItem => {
    if (!input.shuffleChoices || (item.type !== "single" && item.type !== "multiple")) return item;
    // From the choices in id order, so that the presented (shuffled) copy of a fixed item draws the same again.
    const choices = shuffled(
      rng,
      [...item.choices].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)),
    );
    choiceOrder[item.id] = choices.map((c) => c.id);
    return { ...item, choices };
  });
  const draw: AttemptDraw = {
    seed: input.seed >>> 0,
    shuffleItems: input.shuffleItems,
    shuffleChoices: input.shuffleChoices,
    fixedItemIds: input.fixed.map((i) => i.id),
    pools,
    order: presented.map((i) => i.id),
    choiceOrder,
  };
  return { ok: true, items: presented, draw };
}

/**
 * The input that drew a stored draw again, from the attempt's record alone (the assessment may have changed since):
 * its settings and pools, the candidates resolved from their sets, and the fixed items as the attempt presents them
 * (their choices are shuffled from id order, so the presented order does not matter).
 */
export function storedDrawInput(draw: AttemptDrawView, presented: readonly PresentedItem[]): DrawInput {
  const byId = new Map(presented.map((i) => [i.id, i]));
  return {
    seed: draw.seed,
    fixed: draw.fixedItemIds.map((id) => {
      const item = byId.get(id);
      if (!item) throw new Error(`storedDrawInput: the attempt presents no fixed item ${id}`);
      return item;
    }),
    pools: draw.pools.map((p) => ({ pool: p.pool, candidates: p.candidates })),
    shuffleItems: draw.shuffleItems,
    shuffleChoices: draw.shuffleChoices,
  };
}

/**
 * Every attempt's total points: the fixed items' plus `count × points` per pool; null when a pool leaves its items'
 * own points (they differ per draw, so no one total is honest).
 */
export function totalPoints(a: { items: readonly Item[]; pools: readonly Pool[] }): number | null {
  if (a.pools.some((p) => p.points === undefined)) return null;
  return a.items.reduce((s, i) => s + i.points, 0) + a.pools.reduce((s, p) => s + (p.points ?? 0) * p.count, 0);
}

/** Whether an assessment's attempts fix their items at start (a draw or a shuffle); otherwise they present its items as they are. */
export const drawsPerAttempt = (a: { pools: Pool[]; shuffleItems: boolean; shuffleChoices: boolean }) => a.pools.length > 0 || a.shuffleItems || a.shuffleChoices;
