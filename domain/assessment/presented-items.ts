import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import type { Item, ItemKey, PresentedItem } from "../db/schema/assessment-json.js";
import { bankItemVersions } from "../db/schema/index.js";
import { versionKey } from "./draw.js";

/** The items an attempt presents: fixed at its start when it drew or shuffled; otherwise the assessment's own. */
export const presentedItems = (attempt: { items: PresentedItem[] | null }, assessment: { items: Item[] }): PresentedItem[] => attempt.items ?? assessment.items;

/** The items as their learner sees them: without `source` (which bank item and version: staff's to know). */
export const learnerItems = (items: PresentedItem[]): PresentedItem[] => items.map(({ source: _source, ...item }) => item as PresentedItem);

/** The keys of the bank item versions these items were drawn from, by `<item id>:<version>`. One query; none when nothing was drawn. */
export async function bankKeys(db: Executor, items: PresentedItem[]): Promise<Map<string, ItemKey>> {
  const sources = items.flatMap((i) => (i.source ? [i.source] : []));
  if (sources.length === 0) return new Map();
  const ids = [...new Set(sources.map((s) => s.itemId))];
  const rows = await db
    .select({ itemId: bankItemVersions.itemId, version: bankItemVersions.version, key: bankItemVersions.key })
    .from(bankItemVersions)
    .where(sql`${bankItemVersions.itemId} = any(${sql.param(ids)}::uuid[])`);
  return new Map(rows.flatMap((r) => (r.key ? [[versionKey({ bankId: "", itemId: r.itemId, version: r.version }), r.key] as const] : [])));
}

/** An attempt's keys: the assessment's (current version) for its fixed items, each drawn item's version's own for drawn ones. */
export function keysFor(items: PresentedItem[], assessmentKeys: Record<string, ItemKey>, drawn: Map<string, ItemKey>): Record<string, ItemKey> {
  const keys: Record<string, ItemKey> = { ...assessmentKeys };
  for (const item of items) {
    if (!item.source) continue;
    const key = drawn.get(versionKey(item.source));
    if (key) keys[item.id] = key;
  }
  return keys;
}
