import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AnalyticsEvent, applyEvent, emptyRecord, type LearnerRecord } from "../../../domain/analytics/learner-record.js";

const courseId = "00000000-0000-7000-8000-000000000001";
const learnerId = "00000000-0000-7000-8000-000000000002";
const lessons = ["00000000-0000-7000-8000-0000000000a1", "00000000-0000-7000-8000-0000000000a2", "00000000-0000-7000-8000-0000000000a3"];
const quizzes = ["00000000-0000-7000-8000-0000000000b1", "00000000-0000-7000-8000-0000000000b2"];

const at = fc.integer({ min: 0, max: 10_000 }).map((s) => new Date(Date.UTC(2026, 10, 1) + s * 60_000).toISOString());
const eventArb: fc.Arbitrary<AnalyticsEvent> = fc.oneof(
  fc.record({ id: fc.uuid(), occurredAt: at, type: fc.constantFrom("enrollment.created", "enrollment.promoted"), data: fc.constant({ courseId, userId: learnerId }) }),
  fc.record({ id: fc.uuid(), occurredAt: at, type: fc.constant("enrollment.dropped"), data: fc.record({ courseId: fc.constant(courseId), userId: fc.constant(learnerId), previousStatus: fc.constantFrom("active", "waitlisted") }) }),
  fc.record({ id: fc.uuid(), occurredAt: at, type: fc.constant("lesson.completed"), data: fc.record({ courseId: fc.constant(courseId), userId: fc.constant(learnerId), lessonId: fc.constantFrom(...lessons) }) }),
  fc.record({ id: fc.uuid(), occurredAt: at, type: fc.constant("grade.published"), data: fc.record({ courseId: fc.constant(courseId), userId: fc.constant(learnerId), assessmentId: fc.constantFrom(...quizzes), version: fc.integer({ min: 1, max: 3 }), percent: fc.integer({ min: 0, max: 100 }) }) }),
  fc.record({ id: fc.uuid(), occurredAt: at, type: fc.constant("progress.updated"), data: fc.record({ courseId: fc.constant(courseId), userId: fc.constant(learnerId), revision: fc.integer({ min: 1, max: 1000 }), percent: fc.integer({ min: 0, max: 100 }), complete: fc.boolean() }) }),
  fc.record({ id: fc.uuid(), occurredAt: at, type: fc.constant("course.completed"), data: fc.record({ courseId: fc.constant(courseId), userId: fc.constant(learnerId), completedAt: at }) }),
  fc.record({ id: fc.uuid(), occurredAt: at, type: fc.constant("submission.submitted"), data: fc.constant({ courseId, userId: learnerId }) }),
);
// Progress revisions are unique per learner and course in the record (the database bumps one counter).
const historyArb = fc.array(eventArb, { minLength: 1, maxLength: 40 }).map((events) => {
  const seen = new Set<number>();
  return events.filter((e) => e.type !== "progress.updated" || (!seen.has(e.data.revision as number) && Boolean(seen.add(e.data.revision as number))));
});
const fold = (events: readonly AnalyticsEvent[]): LearnerRecord => events.reduce(applyEvent, emptyRecord(courseId, learnerId));

describe("the learner record folded from events", () => {
  it("is the same for every order and every duplication of the same events", () => {
    fc.assert(
      fc.property(historyArb, fc.infiniteStream(fc.nat()), fc.array(fc.nat(), { maxLength: 20 }), (events, seeds, dupIdx) => {
        const reference = fold(events);
        // A shuffled copy, with some events delivered twice (possibly far apart).
        const shuffled = [...events, ...dupIdx.map((i) => events[i % events.length] as AnalyticsEvent)];
        const it = seeds[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (it.next().value as number) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as AnalyticsEvent, shuffled[i] as AnalyticsEvent];
        }
        expect(fold(shuffled)).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps the newest status, the first enrollment, the highest progress revision and the newest grade", () => {
    const e = (type: string, minute: number, data: Record<string, unknown>, id = `e-${type}-${minute}`): AnalyticsEvent => ({ id, type, occurredAt: new Date(Date.UTC(2026, 10, 1, 0, minute)).toISOString(), data: { courseId, userId: learnerId, ...data } });
    const r = fold([
      e("enrollment.dropped", 30, { previousStatus: "active" }),
      e("progress.updated", 20, { revision: 2, percent: 50 }),
      e("enrollment.created", 10, {}),
      e("progress.updated", 25, { revision: 1, percent: 10 }),
      e("grade.published", 12, { assessmentId: quizzes[0], version: 1, percent: 40 }),
      e("grade.published", 18, { assessmentId: quizzes[0], version: 1, percent: 90 }),
      e("lesson.completed", 11, { lessonId: lessons[1] }),
      e("lesson.completed", 11, { lessonId: lessons[1] }),
    ]);
    expect(r).toMatchObject({ status: "dropped", enrolledAt: "2026-11-01T00:10:00.000Z", droppedAt: "2026-11-01T00:30:00.000Z", progress: { percent: 50, revision: 2 }, lessonsCompleted: [lessons[1]] });
    expect(r.grades[quizzes[0] as string]?.percent).toBe(90);
    // Only what the learner did counts as activity: enrolling and the lesson, not the grades or progress.
    expect(r.lastActiveAt).toBe("2026-11-01T00:11:00.000Z");
    // A drop from the waitlist is not a drop-out.
    expect(fold([e("enrollment.dropped", 5, { previousStatus: "waitlisted" })]).status).toBeNull();
  });
});
