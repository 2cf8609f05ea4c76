import type { Executor } from "../db/client.js";
import type { EnrollmentStatus } from "../db/schema/index.js";
import { listCourseEnrollments, type RosterEntry } from "../enrollment/list-enrollments.js";
import { viewerScope } from "./staff-scope.js";
import type { CourseViewer } from "./viewer.js";

/** The course's enrollments as a staff member sees them: a grader scoped to sections, only their sections' learners. */
export async function courseEnrollmentsSeenBy(
  db: Executor,
  courseId: string,
  viewer: Pick<CourseViewer, "userId" | "isAdmin">,
  q: { statuses?: EnrollmentStatus[]; limit: number; afterSeq?: number },
): Promise<(RosterEntry & { seq: number })[]> {
  return listCourseEnrollments(db, { courseId, ...q, sectionIds: await viewerScope(db, courseId, viewer) });
}
