import type { Executor } from "../db/client.js";
import { fail, ok, type Result } from "../shared/result.js";
import { learnersInSections, sectionsInView } from "../sections/staff-scope.js";
import type { CourseViewer } from "../sections/viewer.js";
import { activeLearnerSeries } from "./analytics.js";
import { courseStructure } from "./course-structure.js";
import { type CourseAnalytics, courseFigures } from "./figures.js";
import type { AnalyticsStore } from "./store.js";

/**
 * A course's figures for a range as a staff member sees them: learner records and day rollups from the analytics
 * store, laid over the course's structure. A section filter (asked for, or a scoped grader's own scope) keeps the
 * learners placed in those sections now; a section outside the viewer's scope is refused.
 */
export async function analyticsSeenBy(
  db: Executor,
  store: AnalyticsStore,
  courseId: string,
  viewer: Pick<CourseViewer, "userId" | "isAdmin">,
  q: { from: string; to: string; section?: string | undefined; now: Date },
): Promise<Result<CourseAnalytics, "COURSE_NOT_FOUND" | "SECTION_NOT_FOUND" | "SECTION_OUT_OF_SCOPE">> {
  const structure = await courseStructure(db, courseId);
  if (!structure) return fail("COURSE_NOT_FOUND");
  const sectionIds = await sectionsInView(db, courseId, viewer, q.section);
  if (!sectionIds.ok) return sectionIds;
  const only = sectionIds.value ? await learnersInSections(db, courseId, sectionIds.value) : undefined;
  const [learners, active] = await Promise.all([store.learners(courseId), activeLearnerSeries(store, courseId, q.from, q.to, only)]);
  return ok(courseFigures(structure, only ? learners.filter((l) => only.has(l.learnerId)) : learners, active, { from: q.from, to: q.to }, q.now));
}
