import { outbox } from "../db/schema/index.js";
import { type EventData, type EventType, eventCatalog } from "../events/catalog.js";
import type { DomainContext } from "../shared/context.js";

export interface NewEvent<T extends EventType> {
  type: T;
  aggregateType: string;
  aggregateId: string;
  courseId?: string | null;
  data: EventData<T>;
}

/**
 * Writes a domain event into the outbox in the caller's transaction: it is published after commit, or
 * never if the change rolls back. The data is checked against the event catalog, so nothing malformed
 * leaves; the envelope carries the actor and the W3C traceparent onward.
 */
export async function recordEvent<T extends EventType>(ctx: DomainContext, event: NewEvent<T>): Promise<string> {
  const data = eventCatalog[event.type].parse(event.data) as Record<string, unknown>;
  const id = ctx.newId();
  await ctx.db.insert(outbox).values({
    id,
    type: event.type,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    courseId: event.courseId ?? null,
    occurredAt: ctx.now(),
    actor: { userId: ctx.actor.userId, ...(ctx.actor.requestId ? { requestId: ctx.actor.requestId } : {}) },
    data,
    traceparent: ctx.actor.traceparent,
  });
  ctx.onEventRecorded?.();
  return id;
}
