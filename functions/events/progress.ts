import { updateProgress } from "../../domain/progress/course-progress.js";
import { subscriptionHandler } from "../platform/subscription.js";

// The `progress` subscription: lesson completions, grades and enrollments recompute the learner's progress
// from the record; the first time the completion rules hold, course.completed is written (once). Progress is
// computed from the record, not from the event, so a batch recomputes each (course, learner) once.
subscriptionHandler({
  name: "update-progress-on-event",
  subscription: "progress",
  handleMany: async (events, ctx) => {
    const pairs = new Map<string, (typeof events)[number]>();
    for (const event of events) {
      const data = event.data as { courseId?: string; userId?: string };
      if (data.courseId && data.userId) pairs.set(`${data.courseId}:${data.userId}`, event);
    }
    for (const event of pairs.values()) {
      const data = event.data as { courseId: string; userId: string };
      const view = await updateProgress(ctx.domain(event), data.courseId, data.userId);
      ctx.log.debug("progress", { courseId: data.courseId, userId: data.userId, percent: view?.percent, complete: view?.complete });
    }
  },
});
