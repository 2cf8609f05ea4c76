import { sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { outbox } from "../db/schema/index.js";

export interface OutboxBacklog {
  /** Committed events not yet published. */
  size: number;
  /** When the oldest of them was written; null when there are none. */
  oldestCreatedAt: Date | null;
}

export async function outboxBacklog(db: Executor): Promise<OutboxBacklog> {
  const [row] = await db
    .select({ size: sql<number>`count(*)::int`, oldest: sql<string | null>`min(${outbox.createdAt})` })
    .from(outbox)
    .where(sql`${outbox.publishedAt} is null`);
  return { size: row?.size ?? 0, oldestCreatedAt: row?.oldest ? new Date(row.oldest) : null };
}
