import { z } from "zod";
import { type Item, type ItemDifficulty, type ItemKey, itemDifficulties, itemSchema, keySchema, tagSchema } from "../db/schema/assessment-json.js";
import { itemProblems } from "../grading/item-checks.js";
import { fail, ok, type Result } from "../shared/result.js";
import type { NewBankItem } from "./bank-items.js";

/** An item as exports carry it: content, key, tags and difficulty (no ids of this installation but the item's own). */
export interface ExportedItem {
  item: Item;
  key: ItemKey | null;
  tags: string[];
  difficulty: ItemDifficulty | null;
}

/** The most items one import or export holds. */
export const MAX_TRANSFER_ITEMS = 2000;

export const BANK_FORMAT = "ringlet.question-bank";

/** The documented JSON format (docs/question-banks.md), version 1. */
export const bankFileSchema = z.object({
  format: z.literal(BANK_FORMAT),
  version: z.literal(1),
  bank: z.object({ title: z.string().trim().min(1).max(200), description: z.string().max(5000).default("") }),
  items: z
    .array(
      z.object({
        item: itemSchema,
        key: keySchema.nullable(),
        tags: z.array(tagSchema).max(20).default([]),
        difficulty: z.enum(itemDifficulties).nullable().default(null),
      }),
    )
    .max(MAX_TRANSFER_ITEMS),
});
export type BankFile = z.infer<typeof bankFileSchema>;

export function bankFile(bank: { title: string; description: string }, items: ExportedItem[]): BankFile {
  return { format: BANK_FORMAT, version: 1, bank: { title: bank.title, description: bank.description }, items };
}

export type TransferProblem = "BANK_IMPORT_INVALID" | "INVALID_ITEM";

/**
 * Reads a bank file: the envelope and every item are checked (zod, then `itemProblems`), all or nothing; problems
 * are listed by item position.
 */
export function readBankFile(text: string): Result<NewBankItem[], TransferProblem> {
  // PostgreSQL's jsonb cannot hold NUL; say so here rather than fail at the insert.
  if (text.includes("\\u0000") || text.includes("\u0000")) return fail("BANK_IMPORT_INVALID", "The file holds NUL characters.");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail("BANK_IMPORT_INVALID", `The file is not JSON: ${(err as Error).message}`);
  }
  const parsed = bankFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 50).map((i) => ({ path: i.path.join("."), message: i.message }));
    return fail("BANK_IMPORT_INVALID", problems.map((p) => `${p.path || "(file)"}: ${p.message}`).join("; "), { problems });
  }
  return checkedItems(parsed.data.items.map((i) => ({ ...i, tags: [...new Set(i.tags)] })));
}

/** Every item through `itemProblems`; any problem refuses the whole set, listed by position. */
export function checkedItems(items: NewBankItem[]): Result<NewBankItem[], "INVALID_ITEM"> {
  const problems = items.flatMap((n, index) => itemProblems(n.item, n.key).map((problem) => ({ index, problem })));
  if (problems.length) return fail("INVALID_ITEM", problems.slice(0, 50).map((p) => `item ${p.index}: ${p.problem}`).join("; "), { problems: problems.slice(0, 200) });
  return ok(items);
}
