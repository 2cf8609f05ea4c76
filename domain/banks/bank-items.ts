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
  /** This item's own standing (an import's drafts beside its approved items); else the batch's. */
  status?: BankItemStatus;
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
  const checked = checkedItems(items);
  if (!checked.ok) return checked;
  if (items.length === 0) return ok([]);
  const now = ctx.now();
  const added = items.map((n) => {
    const id = ctx.newId();
    return { id, version: 1, item: { ...n.item, id } as Item, key: n.key, tags: [...new Set(n.tags)], difficulty: n.difficulty, status: n.status ?? how.status };
  });
  await ctx.db.insert(bankItems).values(
    added.map((a) => ({
      id: a.id,
      bankId,
      type: a.item.type,
      currentVersion: 1,
      status: a.status,
      origin: how.origin,
      generationJobId: how.generationJobId ?? null,
      tags: a.tags,
      difficulty: a.difficulty,
      createdByUserId: ctx.actor.userId,
      ...(a.status === "approved" ? { approvedByUserId: ctx.actor.userId, approvedAt: now } : {}),
      createdAt: now,
      updatedAt: now,
    })),
  );
  await ctx.db.insert(bankItemVersions).values(added.map((a) => ({ itemId: a.id, version: 1, item: a.item, key: a.key, createdByUserId: ctx.actor.userId, createdAt: now })));
  return ok(added.map((a) => ({ id: a.id, version: a.version, item: a.item })));
}

// Tags are stored as text: `itemProblems` checks the item and key, tags are the bank's own.
const UNSTORABLE_TAG = /\0|\p{Cs}/u;

/** Every item through `itemProblems`; any problem refuses the whole set, listed by position. */
export function checkedItems<T extends NewBankItem>(items: T[]): Result<T[], "INVALID_ITEM"> {
  const problems = items.flatMap((n, index) =>
    [...itemProblems(n.item, n.key), ...(n.tags.some((t) => UNSTORABLE_TAG.test(t)) ? ["a tag contains NUL characters or unpaired surrogates, which cannot be stored"] : [])].map((problem) => ({ index, problem })),
  );
  if (problems.length) return fail("INVALID_ITEM", problems.slice(0, 50).map((p) => `item ${p.index}: ${p.problem}`).join("; "), { problems: problems.slice(0, 200) });
  return ok(items);
}
