import { inArray, sql } from "drizzle-orm";
import type { Executor, Transaction } from "../db/client.js";
import { outbox } from "../db/schema/index.js";
import type { EventEnvelope } from "../events/catalog.js";

export interface PendingEvent {
  envelope: EventEnvelope;
  aggregateType: string;
  aggregateId: string;
  courseId: string | null;
  sequence: number;
}

/**
 * Claims up to `limit` unpublished events, oldest first, for this transaction. Concurrent relays never
 * claim the same row (SKIP LOCKED), and never two rows of one aggregate (a transaction-scoped advisory lock
 * per aggregate): each aggregate's events leave in commit order. Rows stay claimed until the transaction ends.
 * PostgreSQL may take the advisory locks of more aggregates than the rows it returns; a second relay then
 * finds less to do until the first commits, never the same rows.
 */
export async function claimPendingEvents(tx: Transaction, limit: number): Promise<PendingEvent[]> {
  const rows = await tx.execute<{
    id: string;
    sequence: string;
    type: string;
    aggregate_type: string;
    aggregate_id: string;
    course_id: string | null;
    occurred_at: string;
    actor: EventEnvelope["actor"];
    data: unknown;
    traceparent: string | null;
  }>(sql`
    select id, sequence, type, aggregate_type, aggregate_id, course_id, occurred_at, actor, data, traceparent
    from ${outbox}
    where published_at is null
      and pg_try_advisory_xact_lock(hashtextextended(aggregate_type || ':' || aggregate_id, 7))
    order by sequence
    limit ${limit}
    for update skip locked`);
  return [...rows].map((r) => ({
    envelope: {
      id: r.id,
      type: r.type,
      occurredAt: new Date(r.occurred_at).toISOString(),
      actor: r.actor,
      data: r.data,
      traceparent: r.traceparent,
    },
    aggregateType: r.aggregate_type,
    aggregateId: r.aggregate_id,
    courseId: r.course_id,
    sequence: Number(r.sequence),
  }));
}

export async function markPublished(tx: Transaction, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await tx.update(outbox).set({ publishedAt: now }).where(inArray(outbox.id, ids));
}

/** Notes a failed publish on the rows (outside the rolled-back claim), for operators. */
export async function notePublishFailure(db: Executor, ids: string[], error: string): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(outbox)
    .set({ publishAttempts: sql`${outbox.publishAttempts} + 1`, lastError: error.slice(0, 1000) })
    .where(inArray(outbox.id, ids));
}
