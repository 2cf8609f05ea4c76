import { updateProgress } from "../../domain/progress/course-progress.js";
import { subscriptionHandler } from "../platform/subscription.js";

// The `progress` subscription: lesson completions, grades, enrollments and attendance recompute the learner's progress
// from the record; the first time the completion rules hold, course.completed is written (once). Progress is
// computed from the record, not from the event, so a batch recomputes each (course, learner) once.
subscriptionHandler({
  name: "update-progress-on-event",
  subscription: "progress",
  handleMany: async (events, ctx) => {
    const pairs = new Map<string, { event: (typeof events)[number]; courseId: string; userId: string }>();
    for (const event of events) {
      const data = event.data as { courseId?: string; userId?: string; userIds?: string[] };
      if (!data.courseId) continue;
      // attendance.recorded names every learner whose marks changed at one session.
      for (const userId of data.userId ? [data.userId] : (data.userIds ?? [])) pairs.set(`${data.courseId}:${userId}`, { event, courseId: data.courseId, userId });
    }
    for (const { event, ...data } of pairs.values()) {
      const view = await updateProgress(ctx.domain(event), data.courseId, data.userId);
      ctx.log.debug("progress", { courseId: data.courseId, userId: data.userId, percent: view?.percent, complete: view?.complete });
    }
  },
});
