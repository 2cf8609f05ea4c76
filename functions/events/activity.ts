import type { Statement, StoredStatement } from "../../domain/activity/statements.js";
import { foldEvent } from "../../domain/analytics/analytics.js";
import type { EventEnvelope, EventType } from "../../domain/events/catalog.js";
import { subscriptionHandler } from "../platform/subscription.js";
import { forEachBounded } from "../../domain/shared/bounded.js";
import { erasedAmong } from "../../domain/privacy/erasure.js";

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

/** How many learners' events the activity subscription works on at once (each learner's in order). */
const LEARNERS_AT_ONCE = 16;

// The `activity` subscription: server-side events complete each learner's timeline in Cosmos DB and keep
// the course analytics read models (learner records, active days). Both writes are idempotent by event, and
// touch nothing in PostgreSQL but the inbox: a batch is worked on per learner, several learners at once, each
// learner's events in order (so their record's optimistic-concurrency writes do not race one another).
subscriptionHandler({
  name: "append-activity-on-event",
  subscription: "activity",
  handleMany: async (events, ctx) => {
    const byLearner = new Map<string, typeof events>();
    for (const event of events) {
      const key = String((event.data as { userId?: unknown }).userId ?? "");
      byLearner.set(key, [...(byLearner.get(key) ?? []), event]);
    }
    const groups = [...byLearner.values()];
    // An event published before its learner was erased (still in flight, or redelivered) adds no statement: the
    // timeline forgotten on user.erased stays forgotten.
    // Read in the batch's own transaction: a second pool connection per batch, while the transaction holds one, is how
    // a handful of concurrent batches exhaust the pool and wait on each other for good.
    const erasedLearners = await erasedAmong(ctx.tx, [...byLearner.keys()]);
    await forEachBounded(groups, LEARNERS_AT_ONCE, async (group) => {
      const erased = group.find((event) => event.type === "user.erased");
      if (erased) {
        // The learner's personal data was erased: their timeline goes (client statements may hold free text). The
        // analytics records stay, holding only ids and figures, so course statistics keep counting them. Inside the
        // batch, not after its commit: a failed after-commit step is only logged, while a failure here redelivers
        // the event (forgetting again is harmless); the deletes go a page per bulk request.
        await ctx.platform.activity.forget((erased.data as { userId: string }).userId);
      } else if (!erasedLearners.has(String((group[0]?.data as { userId?: unknown }).userId ?? ""))) {
        const storedAt = ctx.platform.clock().toISOString();
        const timeline = group.flatMap((event) => {
          const found = statementFor(event);
          return found ? [{ ...found.statement, learnerId: found.learnerId, source: "server" as const, storedAt } satisfies StoredStatement] : [];
        });
        const learnerId = timeline[0]?.learnerId;
        if (learnerId) await ctx.platform.activity.append(learnerId, timeline);
      }
      for (const event of group) await foldEvent(ctx.platform.analytics, { id: event.id, type: event.type, occurredAt: event.occurredAt, data: event.data as Record<string, unknown> });
    });
  },
});
