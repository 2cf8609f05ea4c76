import { app, type InvocationContext, type Timer } from "@azure/functions";
import { rollUpCourse, rollupDates } from "../../domain/analytics/analytics.js";
import { coursesToRollUp } from "../../domain/analytics/course-structure.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";

const CONCURRENCY = 4;

// Nightly: rolls each course's activity markers up into active-learner counts per day. The last
// ANALYTICS_ROLLUP_DAYS whole days are recomputed every night, so a run that is late, repeated or follows
// statements sent late by offline clients stores the same figures (upserts keyed by course and day).
app.timer("analytics-rollup", {
  schedule: "%ANALYTICS_ROLLUP_SCHEDULE%",
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "analytics-rollup" } });
    const now = p.clock();
    const dates = rollupDates(now, p.settings.ANALYTICS_ROLLUP_DAYS);
    const courses = await coursesToRollUp(p.database.db, new Date(`${dates[0] as string}T00:00:00Z`));
    let failed = 0;
    const queue = [...courses];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let courseId = queue.shift(); courseId; courseId = queue.shift()) {
          // One course failing (throttled, say) must not stop the others; the next night recomputes it.
          await rollUpCourse(p.analytics, courseId, dates, now).catch((err: unknown) => {
            failed += 1;
            log.error("analytics rollup failed for a course", { courseId, err });
          });
        }
      }),
    );
    log.info("analytics rollup done", { courses: courses.length, failed, from: dates[0], to: dates[dates.length - 1] });
    if (failed > 0) throw new Error(`analytics rollup failed for ${failed} of ${courses.length} courses`);
  },
});
