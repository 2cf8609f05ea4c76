import { z } from "zod";
import { type Item, type ItemDifficulty, type ItemKey, itemDifficulties, itemSchema, keySchema, tagSchema } from "../db/schema/assessment-json.js";
import { type BankItemStatus, bankItemStatuses } from "../db/schema/index.js";
import { fail, type Result } from "../shared/result.js";
import { zodIssueLines, zodIssueList } from "../shared/zod-issues.js";
import { checkedItems, type NewBankItem } from "./bank-items.js";

/** An item as exports carry it: content, key, tags, difficulty and standing (no ids of this installation but the item's own). */
export interface ExportedItem {
  item: Item;
  key: ItemKey | null;
  tags: string[];
  difficulty: ItemDifficulty | null;
  status: BankItemStatus;
}

/** The most items one import or export holds (a larger export is refused, never cut). */
export const MAX_TRANSFER_ITEMS = 2000;

const BANK_FORMAT = "ringlet.question-bank";

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
        // Only `approved` is imported as approved: drafts, retired items and items without a status arrive as drafts.
        status: z.enum(bankItemStatuses).optional(),
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
  // Text PostgreSQL cannot store (NUL, lone surrogates) is found in the parsed strings by `checkedItems`.
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail("BANK_IMPORT_INVALID", `The file is not JSON: ${(err as Error).message}`);
  }
  const parsed = bankFileSchema.safeParse(json);
  if (!parsed.success) {
    return fail("BANK_IMPORT_INVALID", zodIssueLines(parsed.error, "(file)", 50).join("; "), { problems: zodIssueList(parsed.error, 50) });
  }
  return checkedItems(parsed.data.items.map((i) => ({ item: i.item, key: i.key, tags: [...new Set(i.tags)], difficulty: i.difficulty, status: importedStatus(i.status) })));
}

/** What an imported item's standing becomes: approved stays approved; anything else, or nothing said, is a draft. */
export const importedStatus = (status: string | undefined): "approved" | "draft" => (status === "approved" ? "approved" : "draft");
