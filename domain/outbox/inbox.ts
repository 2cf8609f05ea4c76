import { and, eq } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { inbox } from "../db/schema/index.js";

/**
 * Records that `subscription` handled `messageId`, in the handler's own transaction. False when it was
 * handled before: a redelivered message must change nothing twice.
 */
export async function firstDelivery(db: Executor, subscription: string, messageId: string, eventType: string, now: Date): Promise<boolean> {
  const inserted = await db
    .insert(inbox)
    .values({ subscription, messageId, eventType, processedAt: now })
    .onConflictDoNothing()
    .returning({ messageId: inbox.messageId });
  return inserted.length > 0;
}

/** Keeps why a message was refused, for the dead-letter listing; the message itself goes to the dead letters. */
export async function recordRejection(db: Executor, subscription: string, messageId: string, reason: string, now: Date): Promise<void> {
  await db
    .insert(inbox)
    .values({ subscription, messageId, status: "rejected", reason: reason.slice(0, 2000), processedAt: now })
    .onConflictDoUpdate({ target: [inbox.subscription, inbox.messageId], set: { status: "rejected", reason: reason.slice(0, 2000) } });
}

export async function rejectionReason(db: Executor, subscription: string, messageId: string): Promise<string | null> {
  const [row] = await db
    .select({ status: inbox.status, reason: inbox.reason })
    .from(inbox)
    .where(and(eq(inbox.subscription, subscription), eq(inbox.messageId, messageId)));
  return row?.status === "rejected" ? (row.reason ?? "rejected") : null;
}
