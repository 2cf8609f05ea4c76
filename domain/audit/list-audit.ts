import { and, desc, eq, gte, lt, type SQL } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { auditLog } from "../db/schema/index.js";

export interface AuditQuery {
  action?: string;
  actorUserId?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  limit: number;
  /** Keyset position: the id of the last row of the previous page (ids are UUIDv7, so time-ordered). */
  afterId?: string;
}

/** Newest first; fetches limit + 1 rows so the caller can tell whether a next page exists. */
export async function listAudit(db: Executor, q: AuditQuery) {
  const filters: (SQL | undefined)[] = [
    q.action ? eq(auditLog.action, q.action) : undefined,
    q.actorUserId ? eq(auditLog.actorUserId, q.actorUserId) : undefined,
    q.targetId ? eq(auditLog.targetId, q.targetId) : undefined,
    q.from ? gte(auditLog.occurredAt, q.from) : undefined,
    q.to ? lt(auditLog.occurredAt, q.to) : undefined,
    q.afterId ? lt(auditLog.id, q.afterId) : undefined,
  ];
  return db
    .select()
    .from(auditLog)
    .where(and(...filters))
    .orderBy(desc(auditLog.id))
    .limit(q.limit + 1);
}
