import { and, asc, eq, exists, gt, ilike, isNotNull, isNull, ne, sql, type SQL } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { type CourseRole, courseRoles, courseStaff, users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { hashPassword, type ScryptParams, verifyPassword } from "./password-hash.js";
import { revokeUserSessions } from "./refresh-tokens.js";
import { passwordChangedEmail } from "./password-reset.js";
import { recordDirectEmails } from "../notifications/direct-emails.js";
import { findUserView, type GlobalRole, globalRoles, roleFlags, rolesOf, toUserView, type UserView } from "./user-view.js";

/** What the users list filters by: a global role, a role in some course, or neither (a learner). */
export const roleFilters = [...globalRoles, ...courseRoles, "learner"] as const;
export type RoleFilter = (typeof roleFilters)[number];

export interface UserQuery {
  /** Substring of the email address, case-insensitive. */
  email?: string;
  role?: RoleFilter;
  /** Active accounts, or those an admin deactivated. */
  status?: "active" | "deactivated";
  limit: number;
  afterId?: string;
}

const isStaff = (role?: CourseRole) =>
  exists(
    sql`(select 1 from ${courseStaff} where ${courseStaff.userId} = ${users.id}${role ? sql` and ${courseStaff.role} = ${role}` : sql``})`,
  );

/** Users in id order (UUIDv7: creation order); limit + 1 rows so the caller can tell whether a next page exists. */
export async function listUsers(db: Executor, q: UserQuery): Promise<UserView[]> {
  const roleFilter: SQL | undefined =
    q.role === "admin"
      ? eq(users.isAdmin, true)
      : q.role === "finance"
        ? eq(users.isFinance, true)
        : q.role === "course-creator"
          ? eq(users.isCourseCreator, true)
          : q.role === "instructor" || q.role === "grader"
            ? isStaff(q.role)
            : q.role === "learner"
              ? and(eq(users.isAdmin, false), eq(users.isFinance, false), eq(users.isCourseCreator, false), sql`not ${isStaff()}`)
              : undefined;
  const rows = await db
    .select()
    .from(users)
    .where(
      and(
        q.email ? ilike(users.email, `%${q.email.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) : undefined,
        roleFilter,
        q.status === "active" ? isNull(users.disabledAt) : q.status === "deactivated" ? isNotNull(users.disabledAt) : undefined,
        q.afterId ? gt(users.id, q.afterId) : undefined,
      ),
    )
    .orderBy(asc(users.id))
    .limit(q.limit + 1);
  return rows.map((r) => toUserView(r));
}

export async function getUser(db: Executor, userId: string): Promise<Result<UserView, "USER_NOT_FOUND">> {
  const view = await findUserView(db, userId);
  return view ? ok(view) : fail("USER_NOT_FOUND");
}

/**
 * Sets a user's global roles. Refuses to remove the last active admin (a deactivated one cannot sign in), so the
 * platform is never left without one.
 */
export async function setGlobalRoles(ctx: DomainContext, userId: string, roles: GlobalRole[]): Promise<Result<UserView, "USER_NOT_FOUND" | "LAST_ADMIN">> {
  const wanted = roleFlags(roles);
  // Every admin row locked in id order before the target's, as deactivateUser does: two admins demoting (or
  // deactivating) each other at once queue here without deadlock, and the second sees that none would remain.
  await ctx.db.select({ id: users.id }).from(users).where(eq(users.isAdmin, true)).orderBy(asc(users.id)).for("update");
  const [user] = await ctx.db.select().from(users).where(eq(users.id, userId)).for("update");
  if (!user) return fail("USER_NOT_FOUND");
  if (user.isAdmin && !wanted.isAdmin) {
    const others = await ctx.db.select({ id: users.id }).from(users).where(and(eq(users.isAdmin, true), isNull(users.disabledAt), ne(users.id, userId)));
    if (others.length === 0) return fail("LAST_ADMIN", "At least one active admin must remain.");
  }
  if (rolesOf(user).join() !== rolesOf(wanted).join()) {
    await ctx.db.update(users).set({ ...wanted, updatedAt: ctx.now() }).where(eq(users.id, userId));
    await recordAudit(ctx, {
      action: "user.roles-changed",
      targetType: "user",
      targetId: userId,
      details: { before: rolesOf(user), after: rolesOf(wanted) },
    });
  }
  return getUser(ctx.db, userId);
}

/**
 * Changes a user's own profile. `precondition` sees the user as they are before the change: the edge compares the
 * request's If-Match with it there (and throws its 412).
 */
export async function updateProfile(
  ctx: DomainContext,
  userId: string,
  patch: { displayName?: string; locale?: string },
  precondition?: (current: UserView) => void,
): Promise<Result<UserView, "USER_NOT_FOUND">> {
  if (precondition) {
    const current = await getUser(ctx.db, userId);
    if (!current.ok) return current;
    precondition(current.value);
  }
  const fields = Object.entries(patch).filter(([, v]) => v !== undefined);
  if (fields.length > 0) {
    const updated = await ctx.db
      .update(users)
      .set({ ...Object.fromEntries(fields), updatedAt: ctx.now() })
      .where(eq(users.id, userId))
      .returning({ id: users.id });
    if (updated.length === 0) return fail("USER_NOT_FOUND");
    await recordAudit(ctx, { action: "user.profile-updated", targetType: "user", targetId: userId, details: { fields: fields.map(([k]) => k) } });
  }
  return getUser(ctx.db, userId);
}

/** Changes the password and ends every other session of the user; the caller's own session stays. The owner is emailed. */
export async function changePassword(
  ctx: DomainContext,
  input: { userId: string; currentPassword: string; newPassword: string; keepFamilyId?: string },
  kdf: ScryptParams,
  notify: { appUrl: string },
): Promise<Result<{ revokedSessions: number }, "USER_NOT_FOUND" | "CURRENT_PASSWORD_INCORRECT">> {
  // Both KDF runs happen on the pool, holding no connection or lock; the transaction then checks that the password
  // did not change meanwhile (two changes racing: one wins, the other is refused).
  const [user] = await ctx.db.select().from(users).where(eq(users.id, input.userId));
  if (!user) return fail("USER_NOT_FOUND");
  if (!user.passwordHash || !(await verifyPassword(input.currentPassword, user.passwordHash, kdf)).ok) {
    return fail("CURRENT_PASSWORD_INCORRECT", "The current password is not correct.");
  }
  const passwordHash = await hashPassword(input.newPassword, kdf);
  return ctx.db.transaction(async (tx) => {
    const txCtx = { ...ctx, db: tx };
    const [current] = await tx.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, user.id)).for("no key update");
    if (!current) return fail("USER_NOT_FOUND");
    if (current.passwordHash !== user.passwordHash) return fail("CURRENT_PASSWORD_INCORRECT", "The current password is not correct.");
    const now = ctx.now();
    await tx.update(users).set({ passwordHash, passwordChangedAt: now, updatedAt: now }).where(eq(users.id, user.id));
    const revokedSessions = await revokeUserSessions(tx, user.id, "password-changed", now, input.keepFamilyId);
    await recordAudit(txCtx, { action: "user.password-changed", targetType: "user", targetId: user.id, details: { revokedSessions } });
    await recordDirectEmails(txCtx, [passwordChangedEmail(user, now, notify.appUrl)]);
    return ok({ revokedSessions });
  });
}

/** An admin ends every session of a user (refresh tokens; access tokens lapse within their short lifetime). */
export async function revokeAllSessions(ctx: DomainContext, userId: string): Promise<Result<{ revokedSessions: number }, "USER_NOT_FOUND">> {
  const [user] = await ctx.db.select({ id: users.id }).from(users).where(eq(users.id, userId));
  if (!user) return fail("USER_NOT_FOUND");
  const revokedSessions = await revokeUserSessions(ctx.db, userId, "revoked-by-admin", ctx.now());
  await recordAudit(ctx, { action: "user.sessions-revoked", targetType: "user", targetId: userId, details: { revokedSessions } });
  return ok({ revokedSessions });
}

/** Creates the first admin (or promotes an existing user); only reachable from a command or a setting. */
export async function bootstrapAdmin(
  ctx: DomainContext,
  input: { email: string; password?: string; displayName?: string },
  kdf: ScryptParams,
): Promise<Result<{ userId: string; created: boolean }, "USER_NOT_FOUND">> {
  const [existing] = await ctx.db.select().from(users).where(eq(users.email, input.email));
  if (existing) {
    if (!existing.isAdmin) {
      await ctx.db.update(users).set({ isAdmin: true, updatedAt: ctx.now() }).where(eq(users.id, existing.id));
      await recordAudit(ctx, { action: "admin.bootstrapped", targetType: "user", targetId: existing.id, details: { created: false } });
    }
    return ok({ userId: existing.id, created: false });
  }
  if (!input.password) return fail("USER_NOT_FOUND", "No user has this email; give a password to create one.");
  const now = ctx.now();
  const id = ctx.newId();
  await ctx.db.insert(users).values({
    id,
    email: input.email,
    displayName: input.displayName ?? input.email.split("@")[0] ?? "Admin",
    passwordHash: await hashPassword(input.password, kdf),
    isAdmin: true,
    passwordChangedAt: now,
    // The operator chose the address: it counts as confirmed, or AUTH_UNVERIFIED_ACCESS=none would lock them out.
    emailVerifiedAt: now,
    createdAt: now,
    updatedAt: now,
  });
  await recordAudit(ctx, { action: "admin.bootstrapped", targetType: "user", targetId: id, details: { created: true } });
  return ok({ userId: id, created: true });
}

export async function adminExists(db: Executor): Promise<boolean> {
  const [row] = await db.select({ id: users.id }).from(users).where(and(eq(users.isAdmin, true), isNotNull(users.id))).limit(1);
  return row !== undefined;
}
