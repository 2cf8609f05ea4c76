import { and, eq, inArray } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type CourseRole, courseStaff, enrollments } from "../db/schema/index.js";
import { fail, ok, type Result } from "../shared/result.js";
import { type CourseView, findCourse } from "./course-view.js";

/** Who is looking; the HTTP edge fills it from the verified caller. */
export interface Viewer {
  userId: string | null;
  isAdmin: boolean;
}

/**
 * A signed-in viewer whose role in a course is read once per request: the edge passes its caller, whose `roleIn`
 * reuses the access check's read.
 */
export interface CourseViewer {
  userId: string;
  isAdmin: boolean;
  roleIn(courseId: string): Promise<CourseRole | null>;
}

/** The course's staff (any role) and admins: they see hidden content and answer keys, and are never locked out. */
export async function seesAsStaff(viewer: CourseViewer, courseId: string): Promise<boolean> {
  return viewer.isAdmin || (await viewer.roleIn(courseId)) !== null;
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

/** A course as `viewer` may see it. Drafts are invisible to outsiders: the answer is the same as for a course that does not exist. */
export async function courseSeenBy(db: Executor, courseId: string, viewer: Viewer): Promise<Result<CourseView, "COURSE_NOT_FOUND">> {
  const course = await findCourse(db, courseId);
  // A published course needs no second read: everyone may see it.
  if (!course || (course.status !== "published" && !canSeeCourse(course.status, viewer, await relationTo(db, viewer, course.id)))) return fail("COURSE_NOT_FOUND");
  return ok(course);
}
