import { and, eq, inArray } from "drizzle-orm";
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

/**
 * `firstDelivery` for a batch, in one statement: the ids of the events this subscription sees for the first
 * time. An id twice in one batch (a replayed copy) is recorded, and returned, once.
 */
export async function firstDeliveries(db: Executor, subscription: string, events: { id: string; type: string }[], now: Date): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const unique = [...new Map(events.map((e) => [e.id, e])).values()];
  const inserted = await db
    .insert(inbox)
    .values(unique.map((e) => ({ subscription, messageId: e.id, eventType: e.type, processedAt: now })))
    .onConflictDoNothing()
    .returning({ messageId: inbox.messageId });
  return new Set(inserted.map((r) => r.messageId));
}

/** Keeps why a message was refused, for the dead-letter listing; the message itself goes to the dead letters. */
export async function recordRejection(db: Executor, subscription: string, messageId: string, reason: string, now: Date): Promise<void> {
  await db
    .insert(inbox)
    .values({ subscription, messageId, status: "rejected", reason: reason.slice(0, 2000), processedAt: now })
    .onConflictDoUpdate({ target: [inbox.subscription, inbox.messageId], set: { status: "rejected", reason: reason.slice(0, 2000) } });
}

/** Why each of `messageIds` was refused before, for the ones that were (one query for a redelivered batch). */
export async function rejectionReasons(db: Executor, subscription: string, messageIds: string[]): Promise<Map<string, string>> {
  if (messageIds.length === 0) return new Map();
  const rows = await db
    .select({ messageId: inbox.messageId, reason: inbox.reason })
    .from(inbox)
    .where(and(eq(inbox.subscription, subscription), inArray(inbox.messageId, messageIds), eq(inbox.status, "rejected")));
  return new Map(rows.map((r) => [r.messageId, r.reason ?? "rejected"]));
}

export async function rejectionReason(db: Executor, subscription: string, messageId: string): Promise<string | null> {
  const [row] = await db
    .select({ status: inbox.status, reason: inbox.reason })
    .from(inbox)
    .where(and(eq(inbox.subscription, subscription), eq(inbox.messageId, messageId)));
  return row?.status === "rejected" ? (row.reason ?? "rejected") : null;
}
