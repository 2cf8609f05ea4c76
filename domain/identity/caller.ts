import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type CourseRole, courseStaff, enrollments, refreshTokens, users } from "../db/schema/index.js";

export interface CallerFlags {
  isAdmin: boolean;
  disabled: boolean;
  /** The token's session still has a live refresh token (true when the token names no session). */
  sessionActive: boolean;
}

/**
 * Read per request in one query, so a role change, a disabled account or an ended session takes effect at
 * once, not when the access token expires.
 */
export async function callerFlags(db: Executor, userId: string, sessionId: string | null): Promise<CallerFlags | null> {
  const session = sessionId
    ? sql<boolean>`exists (select 1 from ${refreshTokens} where ${refreshTokens.familyId} = ${sessionId} and ${refreshTokens.userId} = ${userId} and ${refreshTokens.revokedAt} is null)`
    : sql<boolean>`true`;
  const [row] = await db
    .select({ isAdmin: users.isAdmin, disabledAt: users.disabledAt, sessionActive: session })
    .from(users)
    .where(eq(users.id, userId));
  return row ? { isAdmin: row.isAdmin, disabled: row.disabledAt !== null, sessionActive: row.sessionActive } : null;
}

export async function courseRoleOf(db: Executor, userId: string, courseId: string): Promise<CourseRole | null> {
  const [row] = await db
    .select({ role: courseStaff.role })
    .from(courseStaff)
    .where(and(eq(courseStaff.userId, userId), eq(courseStaff.courseId, courseId)));
  return row?.role ?? null;
}

export async function isActiveLearner(db: Executor, userId: string, courseId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: enrollments.id })
    .from(enrollments)
    .where(and(eq(enrollments.userId, userId), eq(enrollments.courseId, courseId), eq(enrollments.status, "active")));
  return row !== undefined;
}

export async function isInstructorAnywhere(db: Executor, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: courseStaff.courseId })
    .from(courseStaff)
    .where(and(eq(courseStaff.userId, userId), eq(courseStaff.role, "instructor")))
    .limit(1);
  return row !== undefined;
}
