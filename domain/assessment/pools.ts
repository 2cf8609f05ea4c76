import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import type { Item, ItemKey, ItemSource, Pool } from "../db/schema/assessment-json.js";
import { bankItems, bankItemVersions, questionBankCourses, questionBanks } from "../db/schema/index.js";
import { versionKey } from "./draw.js";

/** `qb` (a question bank) is one the course may draw from: its own, or a shared bank named for it. */
const drawableBy = (courseId: string) =>
  sql`(qb.course_id = ${courseId} or exists (select 1 from ${questionBankCourses} qbc where qbc.bank_id = qb.id and qbc.course_id = ${courseId}))`;

/**
 * The course's own banks and the shared banks named for it, among `bankIds`: what its pools may draw from. One query;
 * it key-share locks them, so a bank deleted concurrently waits for the assessment's save and then sees its pool
 * (deleteBank refuses), rather than slipping through the check.
 */
async function drawableBanks(db: Executor, courseId: string, bankIds: string[]): Promise<Set<string>> {
  const rows = await db.execute<{ id: string }>(sql`
    select qb.id from ${questionBanks} qb
    where qb.id = any(${sql.param(bankIds)}::uuid[])
      and ${drawableBy(courseId)}
    for key share of qb`);
  return new Set(rows.map((r) => r.id));
}

/**
 * Every pool's candidates in ONE query: the approved items of a bank the course may draw from that carry all the
 * pool's tags (and its difficulty), at their current version, ids ascending. Indexed by pool position. Ids only: the
 * content of the few drawn is read by `bankVersions`.
 */
export async function poolCandidates(db: Executor, courseId: string, pools: Pool[]): Promise<ItemSource[][]> {
  if (pools.length === 0) return [];
  const wanted = pools.map((p) => ({ bankId: p.bankId, tags: p.tags, difficulty: p.difficulty ?? null }));
  const rows = await db.execute<{ pool: number; id: string; bank_id: string; version: number }>(sql`
    with p as (
      select (ord - 1)::int as pool, (x->>'bankId')::uuid as bank_id, array(select jsonb_array_elements_text(x->'tags')) as tags, x->>'difficulty' as difficulty
      from jsonb_array_elements(${JSON.stringify(wanted)}::jsonb) with ordinality as t(x, ord)
    )
    select p.pool, bi.id, bi.bank_id, bi.current_version as version
    from p
    join ${questionBanks} qb on qb.id = p.bank_id
      and ${drawableBy(courseId)}
    join ${bankItems} bi on bi.bank_id = p.bank_id and bi.status = 'approved' and bi.tags @> p.tags and (p.difficulty is null or bi.difficulty = p.difficulty)
    order by p.pool, bi.id`);
  const out: ItemSource[][] = pools.map(() => []);
  for (const r of rows) out[r.pool]?.push({ bankId: r.bank_id, itemId: r.id, version: r.version });
  return out;
}

/** A bank item version as stored: its item and key (null for manual items). */
export interface BankVersion {
  item: Item;
  key: ItemKey | null;
}

/** These bank item versions (by item and version; repeats read once), by `versionKey`. One query; none when there are none. */
export async function bankVersions(db: Executor, sources: readonly Pick<ItemSource, "itemId" | "version">[]): Promise<Map<string, BankVersion>> {
  const unique = [...new Map(sources.map((s) => [versionKey(s), s])).values()];
  if (unique.length === 0) return new Map();
  const rows = await db
    .select({ itemId: bankItemVersions.itemId, version: bankItemVersions.version, item: bankItemVersions.item, key: bankItemVersions.key })
    .from(bankItemVersions)
    .where(sql`(${bankItemVersions.itemId}, ${bankItemVersions.version}) in (select * from unnest(${sql.param(unique.map((s) => s.itemId))}::uuid[], ${sql.param(unique.map((s) => s.version))}::int[]))`);
  return new Map(rows.map((r) => [versionKey(r), { item: r.item, key: r.key }]));
}

/** A pool that might come up short: its count, the bank's approved items matching it, and how many of those earlier pools may take. */
interface PoolCounts {
  poolId: string;
  count: number;
  matching: number;
  earlierPoolsMayTake: number;
}

/**
 * What is wrong with an assessment's pools, each named: a bank that does not exist or the course may not draw from,
 * and a pool that might come up short (a bank item whose id a fixed item uses is not counted: it is never drawn). Pools draw without repeats in order, so a pool is safe only when its matching
 * items, less what earlier pools could take from them, still cover its count (the counts are in the problem).
 */
export async function poolProblems(db: Executor, courseId: string, pools: Pool[], fixedItemIds: readonly string[] = []): Promise<{ problems: string[]; shortfalls: PoolCounts[] }> {
  if (pools.length === 0) return { problems: [], shortfalls: [] };
  // A fixed item's id is never drawn (draw.ts keeps ids unique): a bank item with that id is no candidate.
  const fixed = new Set(fixedItemIds);
  const banks = await drawableBanks(db, courseId, [...new Set(pools.map((p) => p.bankId))]);
  const problems = pools.filter((p) => !banks.has(p.bankId)).map((p) => `pool ${p.id}: no question bank ${p.bankId} this course may draw from`);
  if (problems.length) return { problems, shortfalls: [] };
  const shortfalls: PoolCounts[] = [];
  const candidates = (await poolCandidates(db, courseId, pools)).map((cs) => new Set(cs.map((c) => c.itemId).filter((id) => !fixed.has(id))));
  pools.forEach((pool, i) => {
    const mine = candidates[i] as Set<string>;
    const earlier = pools.slice(0, i).reduce((sum, p, j) => sum + Math.min(p.count, [...(candidates[j] as Set<string>)].filter((id) => mine.has(id)).length), 0);
    const safe = Math.max(0, mine.size - earlier);
    if (safe < pool.count) {
      shortfalls.push({ poolId: pool.id, count: pool.count, matching: mine.size, earlierPoolsMayTake: Math.min(earlier, mine.size) });
      problems.push(
        `pool ${pool.id} asks for ${pool.count} items; the bank has ${mine.size} approved items matching it` + (earlier > 0 ? `, of which earlier pools may draw up to ${Math.min(earlier, mine.size)}` : ""),
      );
    }
  });
  return { problems, shortfalls };
}

/** Pool shape rules that need no database: ids unique. */
export function poolShapeProblems(pools: Pool[]): string[] {
  const ids = pools.map((p) => p.id);
  return new Set(ids).size === ids.length ? [] : ["pool ids repeat"];
}
