import type { CourseRole } from "../db/schema/index.js";

/** Who is looking at a course's sections and groups: staff and admins see all, a learner their own. */
export interface CourseViewer {
  userId: string;
  isAdmin: boolean;
  /** The caller's role in the course; null for a learner (or an admin who is not on its staff). */
  role: CourseRole | null;
}

export const isCourseStaffOrAdmin = (v: CourseViewer): boolean => v.isAdmin || v.role !== null;
