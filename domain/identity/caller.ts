import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type CourseRole, courses, courseStaff, enrollments, refreshTokens, users } from "../db/schema/index.js";

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
  const [row] = sessionId ? await flagsQuery(db, "session").execute({ userId, sessionId }) : await flagsQuery(db, "none").execute({ userId });
  return row ? { isAdmin: row.isAdmin, disabled: row.disabledAt !== null, sessionActive: row.sessionActive } : null;
}

const buildFlagsQuery = (db: Executor, session: "session" | "none") =>
  db
    .select({
      isAdmin: users.isAdmin,
      disabledAt: users.disabledAt,
      sessionActive:
        session === "session"
          ? sql<boolean>`exists (select 1 from ${refreshTokens} where ${refreshTokens.familyId} = ${sql.placeholder("sessionId")} and ${refreshTokens.userId} = ${sql.placeholder("userId")} and ${refreshTokens.revokedAt} is null)`
          : sql<boolean>`true`,
    })
    .from(users)
    .where(eq(users.id, sql.placeholder("userId")))
    .prepare(`caller_flags_${session}`);

// Read on every authenticated request: built once per pool (drizzle's builder costs more than the query);
// a transaction's is built for it.
const flagsOnPool = new WeakMap<Executor, Record<"session" | "none", ReturnType<typeof buildFlagsQuery>>>();

function flagsQuery(db: Executor, session: "session" | "none") {
  if ("rollback" in db) return buildFlagsQuery(db, session);
  let built = flagsOnPool.get(db);
  if (!built) {
    built = { session: buildFlagsQuery(db, "session"), none: buildFlagsQuery(db, "none") };
    flagsOnPool.set(db, built);
  }
  return built[session];
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

export async function courseExists(db: Executor, courseId: string): Promise<boolean> {
  const [row] = await db.select({ id: courses.id }).from(courses).where(eq(courses.id, courseId));
  return row !== undefined;
}
