import { and, arrayContains, asc, eq, gt } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import type { Item, ItemDifficulty, ItemKey } from "../db/schema/assessment-json.js";
import { type BankItemStatus, bankItems, bankItemVersions, questionBanks } from "../db/schema/index.js";
import { insertBankItems, type NewBankItem } from "./bank-items.js";
import { itemProblems } from "../grading/item-checks.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";

export type BankItemRow = typeof bankItems.$inferSelect;

/** A bank item with one version's content and key (the current one unless asked). */
export interface BankItemView extends BankItemRow {
  version: number;
  item: Item;
  key: ItemKey | null;
}

const viewOf = (r: { row: BankItemRow; version: number; item: Item; key: ItemKey | null }): BankItemView => ({ ...r.row, version: r.version, item: r.item, key: r.key });

const selection = { row: bankItems, version: bankItemVersions.version, item: bankItemVersions.item, key: bankItemVersions.key };

async function readView(db: Executor, itemId: string, version?: number): Promise<BankItemView | undefined> {
  const [row] = await db
    .select(selection)
    .from(bankItems)
    .innerJoin(bankItemVersions, and(eq(bankItemVersions.itemId, bankItems.id), version === undefined ? eq(bankItemVersions.version, bankItems.currentVersion) : eq(bankItemVersions.version, version)))
    .where(eq(bankItems.id, itemId));
  return row ? viewOf(row) : undefined;
}

/** Read back after a write in the same transaction: the row is there. */
async function written(db: Executor, itemId: string): Promise<BankItemView> {
  const view = await readView(db, itemId);
  if (!view) throw new Error(`bank item ${itemId} vanished inside its own transaction`);
  return view;
}

/** The item at its current version. */
export async function bankItemById(db: Executor, itemId: string): Promise<Result<BankItemView, "BANK_ITEM_NOT_FOUND">> {
  const view = await readView(db, itemId);
  return view ? ok(view) : fail("BANK_ITEM_NOT_FOUND");
}

/** The item at one of its versions. */
export async function bankItemVersion(db: Executor, itemId: string, version: number): Promise<Result<BankItemView, "BANK_ITEM_NOT_FOUND" | "BANK_ITEM_VERSION_NOT_FOUND">> {
  const view = await readView(db, itemId, version);
  if (view) return ok(view);
  const [exists] = await db.select({ id: bankItems.id }).from(bankItems).where(eq(bankItems.id, itemId));
  return exists ? fail("BANK_ITEM_VERSION_NOT_FOUND", `The item has no version ${version}.`) : fail("BANK_ITEM_NOT_FOUND");
}

/** Adds one authored item to a bank (the bank must exist) through the one write path. */
export async function addBankItem(
  ctx: DomainContext,
  bankId: string,
  input: NewBankItem & { status: "draft" | "approved" },
): Promise<Result<BankItemView, "QUESTION_BANK_NOT_FOUND" | "INVALID_ITEM">> {
  const [bank] = await ctx.db.select({ id: questionBanks.id }).from(questionBanks).where(eq(questionBanks.id, bankId));
  if (!bank) return fail("QUESTION_BANK_NOT_FOUND");
  const added = await insertBankItems(ctx, bankId, [input], { status: input.status, origin: "authored" });
  if (!added.ok) return added;
  return ok(await written(ctx.db, (added.value[0] as { id: string }).id));
}

export interface BankItemFilter {
  status?: BankItemStatus;
  /** Every tag must be on the item (the GIN index answers `tags @> ...`). */
  tags: string[];
  type?: Item["type"];
  difficulty?: ItemDifficulty;
  limit: number;
  afterId?: string;
}

/** A bank's items at their current versions, oldest first (ids are time-ordered), `limit + 1` rows for paging. */
export async function listBankItems(db: Executor, bankId: string, filter: BankItemFilter): Promise<BankItemView[]> {
  const rows = await db
    .select(selection)
    .from(bankItems)
    .innerJoin(bankItemVersions, and(eq(bankItemVersions.itemId, bankItems.id), eq(bankItemVersions.version, bankItems.currentVersion)))
    .where(
      and(
        eq(bankItems.bankId, bankId),
        filter.status ? eq(bankItems.status, filter.status) : undefined,
        filter.tags.length ? arrayContains(bankItems.tags, filter.tags) : undefined,
        filter.type ? eq(bankItems.type, filter.type) : undefined,
        filter.difficulty ? eq(bankItems.difficulty, filter.difficulty) : undefined,
        filter.afterId ? gt(bankItems.id, filter.afterId) : undefined,
      ),
    )
    .orderBy(asc(bankItems.id))
    .limit(filter.limit + 1);
  return rows.map(viewOf);
}

/** A page of a bank's items (`listBankItems`), or not found when there is no such bank. */
export async function bankItemsPage(db: Executor, bankId: string, filter: BankItemFilter): Promise<Result<BankItemView[], "QUESTION_BANK_NOT_FOUND">> {
  const [bank] = await db.select({ id: questionBanks.id }).from(questionBanks).where(eq(questionBanks.id, bankId));
  if (!bank) return fail("QUESTION_BANK_NOT_FOUND");
  return ok(await listBankItems(db, bankId, filter));
}

async function lockItem(ctx: DomainContext, itemId: string): Promise<BankItemRow | undefined> {
  const [row] = await ctx.db.select().from(bankItems).where(eq(bankItems.id, itemId)).for("update");
  return row;
}

/**
 * Writes version n+1 of an item (content and key; the stored item's id stays the bank item's id). Versions are
 * immutable, so attempts that drew an earlier one keep scoring against it. The row lock orders two writers; the
 * second one's If-Match is then stale (412).
 */
export async function reviseBankItem(
  ctx: DomainContext,
  itemId: string,
  input: { item: Item; key: ItemKey | null },
  expectedVersion: number | undefined,
): Promise<Result<BankItemView, "BANK_ITEM_NOT_FOUND" | "PRECONDITION_FAILED" | "BANK_ITEM_RETIRED" | "BANK_ITEM_TYPE_CHANGED" | "INVALID_ITEM">> {
  const current = await lockItem(ctx, itemId);
  if (!current) return fail("BANK_ITEM_NOT_FOUND");
  if (expectedVersion !== undefined && expectedVersion !== current.currentVersion) return fail("PRECONDITION_FAILED", "The item has a newer version: read it again.");
  if (current.status === "retired") return fail("BANK_ITEM_RETIRED", "A retired item is not changed.");
  // Pools and lists filter on the type; an item of another type is another item.
  if (input.item.type !== current.type) return fail("BANK_ITEM_TYPE_CHANGED", `The item is a ${current.type} item; add a new item for a ${input.item.type} one.`);
  const item = { ...input.item, id: itemId } as Item;
  const problems = itemProblems(item, input.key);
  if (problems.length) return fail("INVALID_ITEM", problems.join("; "), { problems: problems.map((problem) => ({ index: 0, problem })) });
  const version = current.currentVersion + 1;
  const now = ctx.now();
  await ctx.db.insert(bankItemVersions).values({ itemId, version, item, key: input.key, createdByUserId: ctx.actor.userId, createdAt: now });
  await ctx.db.update(bankItems).set({ currentVersion: version, updatedAt: now }).where(eq(bankItems.id, itemId));
  await recordAudit(ctx, { action: "bank-item.revised", targetType: "bank-item", targetId: itemId, details: { bankId: current.bankId, version } });
  return ok(await written(ctx.db, itemId));
}

/** Tags and difficulty belong to the item, not a version: they change without one. */
export async function tagBankItem(
  ctx: DomainContext,
  itemId: string,
  patch: { tags?: string[]; difficulty?: ItemDifficulty | null },
): Promise<Result<BankItemView, "BANK_ITEM_NOT_FOUND">> {
  const [row] = await ctx.db
    .update(bankItems)
    .set({ ...(patch.tags !== undefined ? { tags: [...new Set(patch.tags)] } : {}), ...(patch.difficulty !== undefined ? { difficulty: patch.difficulty } : {}), updatedAt: ctx.now() })
    .where(eq(bankItems.id, itemId))
    .returning({ id: bankItems.id });
  if (!row) return fail("BANK_ITEM_NOT_FOUND");
  return ok(await written(ctx.db, itemId));
}

/**
 * A draft becomes drawable once a person approves it (approver and time recorded, audited); approving twice changes
 * nothing. The approval names the version the reviewer read (its ETag): compared under the row lock, so a version
 * written meanwhile is never approved unseen (412).
 */
export async function approveBankItem(
  ctx: DomainContext,
  itemId: string,
  expectedVersion: number,
): Promise<Result<BankItemView, "BANK_ITEM_NOT_FOUND" | "BANK_ITEM_RETIRED" | "PRECONDITION_FAILED">> {
  const current = await lockItem(ctx, itemId);
  if (!current) return fail("BANK_ITEM_NOT_FOUND");
  if (expectedVersion !== current.currentVersion) return fail("PRECONDITION_FAILED", `The item is at version ${current.currentVersion}: read it again before approving it.`);
  if (current.status === "retired") return fail("BANK_ITEM_RETIRED", "A retired item is never drawn again; add it anew to use it.");
  if (current.status === "draft") {
    const now = ctx.now();
    await ctx.db.update(bankItems).set({ status: "approved", approvedByUserId: ctx.actor.userId, approvedAt: now, updatedAt: now }).where(eq(bankItems.id, itemId));
    await recordAudit(ctx, { action: "bank-item.approved", targetType: "bank-item", targetId: itemId, details: { bankId: current.bankId, version: current.currentVersion, origin: current.origin } });
  }
  return ok(await written(ctx.db, itemId));
}

/** Retired items stay for the attempts that saw them and are never drawn again; there is no way back (audited once). */
export async function retireBankItem(ctx: DomainContext, itemId: string): Promise<Result<BankItemView, "BANK_ITEM_NOT_FOUND">> {
  const current = await lockItem(ctx, itemId);
  if (!current) return fail("BANK_ITEM_NOT_FOUND");
  if (current.status !== "retired") {
    await ctx.db.update(bankItems).set({ status: "retired", updatedAt: ctx.now() }).where(eq(bankItems.id, itemId));
    await recordAudit(ctx, { action: "bank-item.retired", targetType: "bank-item", targetId: itemId, details: { bankId: current.bankId, version: current.currentVersion, was: current.status } });
  }
  return ok(await written(ctx.db, itemId));
}
