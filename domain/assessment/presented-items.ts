import type { Executor } from "../db/client.js";
import type { Item, ItemKey, PresentedItem } from "../db/schema/assessment-json.js";
import { versionKey } from "./draw.js";
import { bankVersions } from "./pools.js";

/** The items an attempt presents: fixed at its start when it drew or shuffled; otherwise the assessment's own. */
export const presentedItems = (attempt: { items: PresentedItem[] | null }, assessment: { items: Item[] }): PresentedItem[] => attempt.items ?? assessment.items;

/** The items as their learner sees them: without `source` (which bank item and version: staff's to know). */
export const learnerItems = (items: PresentedItem[]): PresentedItem[] => items.map(({ source: _source, ...item }) => item as PresentedItem);

/** The keys of the bank item versions these items were drawn from, by `versionKey`. One query; none when nothing was drawn. */
export async function bankKeys(db: Executor, items: PresentedItem[]): Promise<Map<string, ItemKey>> {
  const versions = await bankVersions(db, items.flatMap((i) => (i.source ? [i.source] : [])));
  return new Map([...versions].flatMap(([k, v]) => (v.key ? [[k, v.key] as const] : [])));
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
