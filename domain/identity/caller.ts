import { and, eq } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type CourseRole, courseStaff, users } from "../db/schema/index.js";

export interface CallerFlags {
  isAdmin: boolean;
  disabled: boolean;
}

/** Read per request, so a role change or a disabled account takes effect at once, not when tokens expire. */
export async function callerFlags(db: Executor, userId: string): Promise<CallerFlags | null> {
  const [row] = await db.select({ isAdmin: users.isAdmin, disabledAt: users.disabledAt }).from(users).where(eq(users.id, userId));
  return row ? { isAdmin: row.isAdmin, disabled: row.disabledAt !== null } : null;
}

export async function courseRoleOf(db: Executor, userId: string, courseId: string): Promise<CourseRole | null> {
  const [row] = await db
    .select({ role: courseStaff.role })
    .from(courseStaff)
    .where(and(eq(courseStaff.userId, userId), eq(courseStaff.courseId, courseId)));
  return row?.role ?? null;
}
