import type { Item, ItemDifficulty, ItemKey } from "../db/schema/assessment-json.js";
import { type BankItemOrigin, type BankItemStatus, bankItems, bankItemVersions } from "../db/schema/index.js";
import { itemProblems } from "../grading/item-checks.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";

/** An item to add to a bank: its content and key (the stored item's id becomes the bank item's id), tags, difficulty. */
export interface NewBankItem {
  item: Item;
  key: ItemKey | null;
  tags: string[];
  difficulty: ItemDifficulty | null;
}

export interface AddedBankItem {
  id: string;
  version: number;
  item: Item;
}

/**
 * Adds items to a bank as version 1 each: THE write path for authored, imported and generated items alike. Every item
 * is checked with `itemProblems` first; any problem refuses the whole batch (`INVALID_ITEM`, problems listed per
 * position), so a caller that must keep the good ones (the generator) checks and drops beforehand. Two statements
 * whatever the count. The caller checks the bank exists and the actor may write to it.
 */
export async function insertBankItems(
  ctx: DomainContext,
  bankId: string,
  items: NewBankItem[],
  how: { status: BankItemStatus; origin: BankItemOrigin; generationJobId?: string | null },
): Promise<Result<AddedBankItem[], "INVALID_ITEM">> {
  const problems = items.flatMap((n, index) => itemProblems(n.item, n.key).map((p) => ({ index, problem: p })));
  if (problems.length) return fail("INVALID_ITEM", problems.map((p) => `item ${p.index}: ${p.problem}`).join("; "), { problems });
  if (items.length === 0) return ok([]);
  const now = ctx.now();
  const added = items.map((n) => {
    const id = ctx.newId();
    return { id, version: 1, item: { ...n.item, id } as Item, key: n.key, tags: [...new Set(n.tags)], difficulty: n.difficulty };
  });
  await ctx.db.insert(bankItems).values(
    added.map((a) => ({
      id: a.id,
      bankId,
      type: a.item.type,
      currentVersion: 1,
      status: how.status,
      origin: how.origin,
      generationJobId: how.generationJobId ?? null,
      tags: a.tags,
      difficulty: a.difficulty,
      createdByUserId: ctx.actor.userId,
      ...(how.status === "approved" ? { approvedByUserId: ctx.actor.userId, approvedAt: now } : {}),
      createdAt: now,
      updatedAt: now,
    })),
  );
  await ctx.db.insert(bankItemVersions).values(added.map((a) => ({ itemId: a.id, version: 1, item: a.item, key: a.key, createdByUserId: ctx.actor.userId, createdAt: now })));
  return ok(added.map((a) => ({ id: a.id, version: a.version, item: a.item })));
}
