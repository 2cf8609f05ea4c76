import { outbox } from "../db/schema/index.js";
import type { DomainContext } from "../shared/context.js";

export interface NewEvent {
  /** Dotted, lower case, past tense: `user.registered`. */
  type: string;
  aggregateType: string;
  aggregateId: string;
  courseId?: string | null;
  data: Record<string, unknown>;
}

/**
 * Writes a domain event into the outbox in the caller's transaction: it is published after commit, or
 * never if the change rolls back. The envelope carries the actor and the W3C traceparent onward.
 */
export async function recordEvent(ctx: DomainContext, event: NewEvent): Promise<string> {
  const id = ctx.newId();
  await ctx.db.insert(outbox).values({
    id,
    type: event.type,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    courseId: event.courseId ?? null,
    occurredAt: ctx.now(),
    actor: { userId: ctx.actor.userId, ...(ctx.actor.requestId ? { requestId: ctx.actor.requestId } : {}) },
    data: event.data,
    traceparent: ctx.actor.traceparent,
  });
  return id;
}
