import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";
import type { AttemptDraw, Item, ItemSource, Pool, PresentedItem } from "../db/schema/assessment-json.js";

/** A bank item a pool may draw: the version current when the attempt started. */
export interface Candidate {
  source: ItemSource;
  item: Item;
}

export interface DrawInput {
  seed: number;
  fixed: Item[];
  /** Per pool, in the assessment's pool order, its candidates with ids ascending (as `poolCandidates` reads them). */
  pools: { pool: Pool; candidates: Candidate[] }[];
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

/** Shuffles a copy in place with Fisher–Yates, each swap index from the generator (so a seed fixes the permutation). */
function shuffled<T>(rng: RandomGenerator, values: readonly T[], take = values.length): T[] {
  const out = [...values];
  for (let i = 0; i < take; i++) {
    const j = uniformInt(rng, i, out.length - 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out.slice(0, take);
}

/**
 * An attempt's items from its seed: each pool draws `count` of its candidates not drawn by an earlier pool, then
 * fixed + drawn items are shuffled (when asked), then each choice item's choices (when asked). Pure: the same seed
 * and candidates give the same items in the same order, which is how a stored draw is explained and checked.
 */
export function drawItems(input: DrawInput): DrawOutcome {
  const rng = xoroshiro128plus(input.seed >>> 0);
  const taken = new Set<string>();
  const pools: AttemptDraw["pools"] = [];
  const drawn: PresentedItem[] = [];
  for (const { pool, candidates } of input.pools) {
    const free = candidates.filter((c) => !taken.has(c.source.itemId));
    if (free.length < pool.count) return { ok: false, shortfall: { poolId: pool.id, count: pool.count, available: free.length } };
    const picked = shuffled(rng, free, pool.count);
    for (const c of picked) {
      taken.add(c.source.itemId);
      drawn.push({ ...c.item, id: c.source.itemId, ...(pool.points !== undefined ? { points: pool.points } : {}), source: c.source });
    }
    pools.push({ poolId: pool.id, candidates: candidates.map((c) => c.source), drawn: picked.map((c) => c.source) });
  }
  const ordered = input.shuffleItems ? shuffled(rng, [...input.fixed, ...drawn]) : [...input.fixed, ...drawn];
  const choiceOrder: Record<string, string[]> = {};
  const items = ordered.map((item): PresentedItem => {
    if (!input.shuffleChoices || (item.type !== "single" && item.type !== "multiple")) return item;
    const choices = shuffled(rng, item.choices);
    choiceOrder[item.id] = choices.map((c) => c.id);
    return { ...item, choices };
  });
  return { ok: true, items, draw: { seed: input.seed >>> 0, pools, order: items.map((i) => i.id), choiceOrder } };
}

/** Whether an assessment's attempts fix their items at start (a draw or a shuffle); otherwise they present its items as they are. */
export const drawsPerAttempt = (a: { pools: Pool[]; shuffleItems: boolean; shuffleChoices: boolean }) => a.pools.length > 0 || a.shuffleItems || a.shuffleChoices;
