import { eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { bankItems, questionBanks } from "../db/schema/index.js";

/** Where a bank sits for access checks: its course (null for an administrator's shared bank) and what it is shared with. */
export interface BankPlace {
  courseId: string | null;
  sharedWith: string[];
}

/** The bank's course and sharing in one read; null when there is no such bank. */
export async function bankPlace(db: Executor, bankId: string): Promise<BankPlace | null> {
  const [row] = await db
    .select({
      courseId: questionBanks.courseId,
      sharedWith: sql<string[]>`coalesce((select array_agg(qbc.course_id::text) from question_bank_courses qbc where qbc.bank_id = ${questionBanks.id}), '{}')`,
    })
    .from(questionBanks)
    .where(eq(questionBanks.id, bankId));
  return row ?? null;
}

/** Where an item's bank sits; null when there is no such item. */
export async function itemPlace(db: Executor, itemId: string): Promise<BankPlace | null> {
  const [row] = await db.select({ bankId: bankItems.bankId }).from(bankItems).where(eq(bankItems.id, itemId));
  return row ? bankPlace(db, row.bankId) : null;
}
