import { outbox } from "../db/schema/index.js";
import { type EventData, type EventType, eventCatalog } from "../events/catalog.js";
import type { DomainContext } from "../shared/context.js";

// Many events in one insert, for set-based work (imports, the low-attendance run); recordEvent is the one-event form.

export interface BatchEvent<T extends EventType> {
  type: T;
  aggregateType: string;
  aggregateId: string;
  courseId: string;
  data: EventData<T>;
}

/** Writes a batch's events to the outbox in one insert (each checked against the catalog, as recordEvent does). */
export async function recordEvents(ctx: DomainContext, events: readonly BatchEvent<EventType>[]): Promise<void> {
  if (events.length === 0) return;
  const occurredAt = ctx.now();
  const actor = { userId: ctx.actor.userId, ...(ctx.actor.requestId ? { requestId: ctx.actor.requestId } : {}) };
  await ctx.db.insert(outbox).values(
    events.map((e) => ({
      id: ctx.newId(),
      type: e.type,
      aggregateType: e.aggregateType,
      aggregateId: e.aggregateId,
      courseId: e.courseId,
      occurredAt,
      actor,
      data: eventCatalog[e.type].parse(e.data) as Record<string, unknown>,
      traceparent: ctx.actor.traceparent,
    })),
  );
  ctx.onEventRecorded?.();
}
