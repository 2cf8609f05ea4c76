import type { Statement, StoredStatement } from "../../domain/activity/statements.js";
import { foldEvent } from "../../domain/analytics/analytics.js";
import type { EventEnvelope, EventType } from "../../domain/events/catalog.js";
import { subscriptionHandler } from "../platform/subscription.js";

/** Server-side events as statements of the learner's timeline; the event id is the statement id (idempotent). */
function statementFor(event: EventEnvelope & { type: EventType }): { learnerId: string; statement: Statement } | null {
  const d = event.data as Record<string, string | number | undefined>;
  const learnerId = d.userId as string | undefined;
  if (!learnerId) return null;
  const base = { id: `evt-${event.id}`, timestamp: event.occurredAt, context: { courseId: d.courseId as string } };
  switch (event.type) {
    case "enrollment.created":
    case "enrollment.promoted":
      return { learnerId, statement: { ...base, verb: "enrolled", object: { type: "course", id: d.courseId as string } } };
    case "lesson.completed":
      return { learnerId, statement: { ...base, verb: "completed", object: { type: "lesson", id: d.lessonId as string, courseId: d.courseId as string } } };
    case "submission.submitted":
      return { learnerId, statement: { ...base, verb: "submitted", object: { type: "submission", id: d.submissionId as string, courseId: d.courseId as string } } };
    case "grade.published":
      return { learnerId, statement: { ...base, verb: "graded", object: { type: "assessment", id: d.assessmentId as string, courseId: d.courseId as string }, result: { score: Number(d.percent) } } };
    case "certificate.issued":
      return { learnerId, statement: { ...base, verb: "certified", object: { type: "certificate", id: d.certificateId as string, courseId: d.courseId as string } } };
    default:
      return null;
  }
}

// The `activity` subscription: server-side events complete each learner's timeline in Cosmos DB and keep
// the course analytics read models (learner records, active days). Both writes are idempotent by event.
subscriptionHandler({
  name: "append-activity-on-event",
  subscription: "activity",
  handle: async (event, ctx) => {
    const found = statementFor(event);
    if (found) {
      const stored: StoredStatement = { ...found.statement, learnerId: found.learnerId, source: "server", storedAt: ctx.domain.now().toISOString() };
      await ctx.platform.activity.append(found.learnerId, [stored]);
    }
    await foldEvent(ctx.platform.analytics, { id: event.id, type: event.type, occurredAt: event.occurredAt, data: event.data as Record<string, unknown> });
  },
});
