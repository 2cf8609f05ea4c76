import type { Executor } from "../db/client.js";
import type { EnrollmentStatus } from "../db/schema/index.js";
import { listCourseEnrollments, type RosterEntry } from "../enrollment/list-enrollments.js";
import { ok, type Result } from "../shared/result.js";
import { sectionsInView } from "./staff-scope.js";
import type { CourseViewer } from "./viewer.js";

/** The course's enrollments as a staff member sees them: a grader scoped to sections, only their sections' learners. */
export async function courseEnrollmentsSeenBy(
  db: Executor,
  courseId: string,
  viewer: Pick<CourseViewer, "userId" | "isAdmin">,
  q: { statuses?: EnrollmentStatus[]; limit: number; afterSeq?: number },
): Promise<Result<(RosterEntry & { seq: number })[], "SECTION_NOT_FOUND" | "SECTION_OUT_OF_SCOPE">> {
  const sectionIds = await sectionsInView(db, courseId, viewer, undefined);
  if (!sectionIds.ok) return sectionIds;
  return ok(await listCourseEnrollments(db, { courseId, ...q, sectionIds: sectionIds.value }));
}
