import { updateProgress } from "../../domain/progress/course-progress.js";
import { subscriptionHandler } from "../platform/subscription.js";

// The `progress` subscription: lesson completions, grades and enrollments recompute the learner's progress
// from the record; the first time the completion rules hold, course.completed is written (once).
subscriptionHandler({
  name: "update-progress-on-event",
  subscription: "progress",
  handle: async (event, ctx) => {
    const data = event.data as { courseId?: string; userId?: string };
    if (!data.courseId || !data.userId) return;
    const view = await updateProgress(ctx.domain, data.courseId, data.userId);
    ctx.log.info("progress", { courseId: data.courseId, userId: data.userId, percent: view?.percent, complete: view?.complete });
  },
});
