import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { receiptFor } from "./receipts.js";

/**
 * Deletes a user's evaluation receipts (erasure): with the key they are findable, so they are personal data. Their
 * receipts are computed for every evaluation of a course they were ever enrolled in, and deleted in one statement.
 * Their anonymous responses stay, and so does each evaluation's count: nothing links those to them.
 */
export async function eraseEvaluationReceipts(db: Executor, userId: string, receiptKey: string): Promise<void> {
  const evaluations = await db.execute<{ id: string }>(sql`
    select ce.id from course_evaluations ce
    where ce.course_id in (select course_id from enrollments where user_id = ${userId})`);
  if (evaluations.length === 0) return;
  await db.execute(sql`
    delete from evaluation_receipts r
    using unnest(${sql.param(evaluations.map((e) => e.id))}::uuid[], ${sql.param(evaluations.map((e) => receiptFor(receiptKey, e.id, userId)))}::text[]) as v(evaluation_id, receipt)
    where r.evaluation_id = v.evaluation_id and r.receipt = v.receipt`);
}
