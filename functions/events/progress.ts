import { attendancePoliciesOf } from "../../domain/attendance/attendance-policy.js";
import { updateProgress } from "../../domain/progress/course-progress.js";
import { subscriptionHandler } from "../platform/subscription.js";

// The `progress` subscription: lesson completions, grades, enrollments and attendance recompute the learner's progress
// from the record; the first time the completion rules hold, course.completed is written (once). Progress is
// computed from the record, not from the event, so a batch recomputes each (course, learner) once.
subscriptionHandler({
  name: "update-progress-on-event",
  subscription: "progress",
  handleMany: async (events, ctx) => {
    // markOnly: every event naming the pair is attendance.recorded (a mark changed, nothing else).
    const pairs = new Map<string, { event: (typeof events)[number]; courseId: string; userId: string; markOnly: boolean }>();
    for (const event of events) {
      const data = event.data as { courseId?: string; userId?: string; userIds?: string[] };
      if (!data.courseId) continue;
      const markOnly = event.type === "attendance.recorded";
      // attendance.recorded names every learner whose marks changed at one session.
      for (const userId of data.userId ? [data.userId] : (data.userIds ?? [])) {
        const key = `${data.courseId}:${userId}`;
        pairs.set(key, { event, courseId: data.courseId, userId, markOnly: markOnly && (pairs.get(key)?.markOnly ?? true) });
      }
    }
    // A mark changes progress only where completion needs an attendance rate: a whole roster's take elsewhere costs
    // one query here instead of a recomputation per learner.
    const marked = [...pairs.values()].filter((p) => p.markOnly);
    if (marked.length > 0) {
      const policies = await attendancePoliciesOf(ctx.tx, [...new Set(marked.map((p) => p.courseId))]);
      for (const [key, pair] of pairs) if (pair.markOnly && policies.get(pair.courseId)?.minRateForCompletion == null) pairs.delete(key);
    }
    for (const { event, markOnly: _, ...data } of pairs.values()) {
      const view = await updateProgress(ctx.domain(event), data.courseId, data.userId);
      ctx.log.debug("progress", { courseId: data.courseId, userId: data.userId, percent: view?.percent, complete: view?.complete });
    }
  },
});
