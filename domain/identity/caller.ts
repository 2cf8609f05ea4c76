import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type CourseRole, courses, courseStaff, enrollments, refreshTokens, users } from "../db/schema/index.js";

export interface CallerFlags {
  isAdmin: boolean;
  /** The bursar role: fees, invoices, payments and the ledger. */
  isFinance: boolean;
  disabled: boolean;
  /** The token's session still has a live refresh token (true when the token names no session). */
  sessionActive: boolean;
  /** The two-factor rule applies to the caller and their session was not signed in with a second factor. */
  twoFactorPending: boolean;
  emailVerified: boolean;
}

/**
 * Who must sign in with a second factor (`AUTH_TWO_FACTOR_REQUIRED`): "admins" means admins and the bursar; "staff"
 * adds course staff and course creators.
 */
export type TwoFactorRule = "none" | "admins" | "staff";

type Session = "session" | "none";

/**
 * Read per request in one query, so a role change, a disabled account or an ended session takes effect at
 * once, not when the access token expires. With a two-factor rule, the same query also reads whether the session
 * was signed in with a second factor (and, for "staff", whether the caller is course staff); with none, nothing more.
 */
export async function callerFlags(db: Executor, userId: string, sessionId: string | null, rule: TwoFactorRule = "none"): Promise<CallerFlags | null> {
  const [row] = sessionId ? await flagsQuery(db, "session", rule).execute({ userId, sessionId }) : await flagsQuery(db, "none", rule).execute({ userId });
  if (!row) return null;
  const applies = ruleCovers(rule, row.isAdmin || row.isFinance, row.isStaff);
  return { isAdmin: row.isAdmin, isFinance: row.isFinance, disabled: row.disabledAt !== null, sessionActive: row.sessionActive, twoFactorPending: applies && !row.secondFactor, emailVerified: row.emailVerified };
}

/** True when the two-factor rule covers the user (an admin or the bursar, or course staff under "staff"). */
export async function twoFactorRuleCovers(db: Executor, userId: string, rule: TwoFactorRule): Promise<boolean> {
  if (rule === "none") return false;
  const [row] = await db
    .select({ isAdmin: users.isAdmin, isFinance: users.isFinance, isStaff: countsAsStaff })
    .from(users)
    .where(eq(users.id, userId));
  return Boolean(row && ruleCovers(rule, row.isAdmin || row.isFinance, row.isStaff));
}

// The bursar (finance role) moves money and sees every learner's invoices: covered like an admin, under both rules.
const ruleCovers = (rule: TwoFactorRule, adminOrFinance: boolean, isStaff: boolean) => rule !== "none" && (adminOrFinance || (rule === "staff" && isStaff));
// Course staff, and course creators: they are about to teach, and the rule should hold from their first course.
const countsAsStaff = sql<boolean>`(${users.isCourseCreator} or exists (select 1 from ${courseStaff} where ${courseStaff.userId} = ${users.id}))`;

const liveSession = (extra = sql``) =>
  sql<boolean>`exists (select 1 from ${refreshTokens} where ${refreshTokens.familyId} = ${sql.placeholder("sessionId")} and ${refreshTokens.userId} = ${sql.placeholder("userId")} and ${refreshTokens.revokedAt} is null and ${refreshTokens.expiresAt} > now()${extra})`;

const buildFlagsQuery = (db: Executor, session: Session, rule: TwoFactorRule) =>
  db
    .select({
      isAdmin: users.isAdmin,
      isFinance: users.isFinance,
      disabledAt: users.disabledAt,
      emailVerified: sql<boolean>`${users.emailVerifiedAt} is not null`,
      sessionActive: session === "session" ? liveSession() : sql<boolean>`true`,
      secondFactor: session === "session" && rule !== "none" ? liveSession(sql` and ${refreshTokens.secondFactor}`) : sql<boolean>`false`,
      isStaff: rule === "staff" ? countsAsStaff : sql<boolean>`false`,
    })
    .from(users)
    .where(eq(users.id, sql.placeholder("userId")))
    .prepare(`caller_flags_${session}_${rule}`);

// Read on every authenticated request: built once per pool (drizzle's builder costs more than the query);
// a transaction's is built for it.
const flagsOnPool = new WeakMap<Executor, Map<string, ReturnType<typeof buildFlagsQuery>>>();

function flagsQuery(db: Executor, session: Session, rule: TwoFactorRule) {
  if ("rollback" in db) return buildFlagsQuery(db, session, rule);
  let built = flagsOnPool.get(db);
  if (!built) {
    built = new Map();
    flagsOnPool.set(db, built);
  }
  const key = `${session}:${rule}`;
  let query = built.get(key);
  if (!query) {
    query = buildFlagsQuery(db, session, rule);
    built.set(key, query);
  }
  return query;
}

export async function courseRoleOf(db: Executor, userId: string, courseId: string): Promise<CourseRole | null> {
  const [row] = await db
    .select({ role: courseStaff.role })
    .from(courseStaff)
    .where(and(eq(courseStaff.userId, userId), eq(courseStaff.courseId, courseId)));
  return row?.role ?? null;
}

/** Whether the user is staff in one of `roles` of any of the courses: one `= any(...)` read however many there are. */
export async function isStaffOfAny(db: Executor, userId: string, courseIds: readonly string[], roles: readonly CourseRole[]): Promise<boolean> {
  if (!courseIds.length || !roles.length) return false;
  const [row] = await db
    .select({ id: courseStaff.courseId })
    .from(courseStaff)
    .where(and(eq(courseStaff.userId, userId), sql`${courseStaff.courseId} = any(${sql.param([...courseIds])}::uuid[])`, sql`${courseStaff.role}::text = any(${sql.param([...roles])}::text[])`))
    .limit(1);
  return row !== undefined;
}

export async function isActiveLearner(db: Executor, userId: string, courseId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: enrollments.id })
    .from(enrollments)
    .where(and(eq(enrollments.userId, userId), eq(enrollments.courseId, courseId), eq(enrollments.status, "active")));
  return row !== undefined;
}

/** Whether the user may create courses: they hold the `course-creator` role, or teach one already. One read. */
export async function isInstructorAnywhere(db: Executor, userId: string): Promise<boolean> {
  const [row] = await db
    .select({
      may: sql<boolean>`${users.isCourseCreator} or exists (select 1 from ${courseStaff} where ${courseStaff.userId} = ${users.id} and ${courseStaff.role} = 'instructor')`,
    })
    .from(users)
    .where(eq(users.id, userId));
  return row?.may === true;
}

export async function courseExists(db: Executor, courseId: string): Promise<boolean> {
  const [row] = await db.select({ id: courses.id }).from(courses).where(eq(courses.id, courseId));
  return row !== undefined;
}
