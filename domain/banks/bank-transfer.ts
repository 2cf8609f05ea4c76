import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/record-audit.js";
import type { Executor } from "../db/client.js";
import { questionBanks } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { insertBankItems } from "./bank-items.js";
import { type ExportedItem, MAX_TRANSFER_ITEMS, readBankFile } from "./bank-format.js";
import { listBankItems } from "./manage-bank-items.js";
import { type QtiFile, readQtiFiles } from "./qti/qti-import.js";
import type { XmlProblem } from "./qti/xml-tree.js";

export type TransferFormat = "json" | "qti3" | "qti21";

/**
 * A bank's items at their current versions with their standing, oldest first: all of them (the JSON format carries
 * each one's status), or the approved ones alone (QTI has no place for a status). At most `MAX_TRANSFER_ITEMS`, what
 * an import takes: a larger export is refused (`BANK_EXPORT_TOO_LARGE`), never cut.
 */
export async function bankExport(
  db: Executor,
  bankId: string,
  which: { approvedOnly: boolean },
): Promise<Result<{ bank: { id: string; title: string; description: string }; items: ExportedItem[] }, "QUESTION_BANK_NOT_FOUND" | "BANK_EXPORT_TOO_LARGE">> {
  const [bank] = await db.select({ id: questionBanks.id, title: questionBanks.title, description: questionBanks.description }).from(questionBanks).where(eq(questionBanks.id, bankId));
  if (!bank) return fail("QUESTION_BANK_NOT_FOUND");
  const rows = await listBankItems(db, bankId, { tags: [], limit: MAX_TRANSFER_ITEMS, ...(which.approvedOnly ? { status: "approved" as const } : {}) });
  if (rows.length > MAX_TRANSFER_ITEMS) {
    return fail("BANK_EXPORT_TOO_LARGE", `An export holds at most ${MAX_TRANSFER_ITEMS} items, what one import takes: this bank has more. Split it into several banks.`, { maxItems: MAX_TRANSFER_ITEMS });
  }
  return ok({ bank, items: rows.map((r) => ({ item: r.item, key: r.key, tags: r.tags, difficulty: r.difficulty, status: r.status })) });
}

/** What an import brings: the JSON file's text, or the QTI package's files (or one item document). */
export type ImportSource = { format: "json"; text: string } | { format: "qti3" | "qti21"; files: QtiFile[] };

export type ImportProblem = "QUESTION_BANK_NOT_FOUND" | "BANK_IMPORT_INVALID" | "INVALID_ITEM" | XmlProblem;

/**
 * Adds a file's items to a bank, all or nothing: every item is read and checked before anything is written, then
 * written in one go (origin imported) under the bank's row lock, and audited. Only items the file says are approved
 * arrive approved; drafts, retired items and items of unknown standing (foreign QTI) arrive as drafts.
 */
export async function importIntoBank(ctx: DomainContext, bankId: string, source: ImportSource): Promise<Result<{ imported: { id: string; version: number }[] }, ImportProblem>> {
  const [bank] = await ctx.db.select({ id: questionBanks.id }).from(questionBanks).where(eq(questionBanks.id, bankId)).for("update");
  if (!bank) return fail("QUESTION_BANK_NOT_FOUND");
  const read = source.format === "json" ? readBankFile(source.text) : readQtiFiles(source.files);
  if (!read.ok) return read;
  const added = await insertBankItems(ctx, bankId, read.value, { status: "draft", origin: "imported" });
  if (!added.ok) return added;
  await recordAudit(ctx, { action: "question-bank.imported", targetType: "question-bank", targetId: bankId, details: { format: source.format, items: added.value.length } });
  return ok({ imported: added.value.map((a) => ({ id: a.id, version: a.version })) });
}
