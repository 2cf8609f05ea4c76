import { and, eq, inArray } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type CourseRole, courseStaff, enrollments } from "../db/schema/index.js";

/** Who is looking; the HTTP edge fills it from the verified caller. */
export interface Viewer {
  userId: string | null;
  isAdmin: boolean;
}

export interface CourseRelation {
  staffRole: CourseRole | null;
  /** An active enrollment: the learner may read the course's content. */
  enrolled: boolean;
  /** Any enrollment at all, live or ended (archived courses stay readable to former learners). */
  everEnrolled: boolean;
}

export async function relationTo(db: Executor, viewer: Viewer, courseId: string): Promise<CourseRelation> {
  if (!viewer.userId) return { staffRole: null, enrolled: false, everEnrolled: false };
  const [staff] = await db
    .select({ role: courseStaff.role })
    .from(courseStaff)
    .where(and(eq(courseStaff.courseId, courseId), eq(courseStaff.userId, viewer.userId)));
  const rows = await db
    .select({ status: enrollments.status })
    .from(enrollments)
    .where(and(eq(enrollments.courseId, courseId), eq(enrollments.userId, viewer.userId), inArray(enrollments.status, ["active", "waitlisted", "offered", "dropped", "removed"])));
  return { staffRole: staff?.role ?? null, enrolled: rows.some((r) => r.status === "active"), everEnrolled: rows.length > 0 };
}

/** Drafts are for their staff; archived courses for staff and former learners; published ones for all. */
export function canSeeCourse(status: "draft" | "published" | "archived", viewer: Viewer, relation: CourseRelation): boolean {
  if (viewer.isAdmin || relation.staffRole) return true;
  if (status === "published") return true;
  return status === "archived" && relation.everEnrolled;
}
