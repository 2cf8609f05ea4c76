import { and, asc, eq, isNull, ne } from "drizzle-orm";
import { erasureRequests, users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { recordEvent } from "../outbox/record-event.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { revokeUserSessions } from "./refresh-tokens.js";
import { findUserView, type UserView } from "./user-view.js";

export interface LifecycleChange {
  user: UserView;
  /** False when the account already was in the asked state (nothing changed, nothing recorded). */
  changed: boolean;
  revokedSessions: number;
}

/**
 * An admin switches an account off: every session ends now (refresh tokens revoked; access tokens are refused
 * on their next request, since the caller's flags are read per request), sign-in is refused, and every record
 * stays. Deactivating an already deactivated account changes nothing. The admin cannot deactivate themselves,
 * and the last active admin stays: the platform is never left without one.
 */
export async function deactivateUser(
  ctx: DomainContext,
  input: { userId: string; reason?: string },
): Promise<Result<LifecycleChange, "USER_NOT_FOUND" | "CANNOT_DEACTIVATE_SELF" | "LAST_ADMIN">> {
  const [target] = await ctx.db.select({ isAdmin: users.isAdmin }).from(users).where(eq(users.id, input.userId));
  if (!target) return fail("USER_NOT_FOUND");
  if (input.userId === ctx.actor.userId) return fail("CANNOT_DEACTIVATE_SELF", "Ask another admin to deactivate your account.");
  if (target.isAdmin) {
    // Every admin row locked, in one order: two admins deactivating each other at once queue here (no deadlock),
    // and the second sees that it would leave none.
    await ctx.db.select({ id: users.id }).from(users).where(eq(users.isAdmin, true)).orderBy(asc(users.id)).for("update");
  }
  const [user] = await ctx.db.select().from(users).where(eq(users.id, input.userId)).for("update");
  if (!user) return fail("USER_NOT_FOUND");
  if (user.disabledAt) {
    // Disabled by a scheduled erasure, whose cancellation would enable it again: the admin takes the disablement
    // over, so a cancelled erasure leaves the account deactivated.
    const [held] = await ctx.db
      .update(erasureRequests)
      .set({ disabledAccount: false, updatedAt: ctx.now() })
      .where(and(eq(erasureRequests.userId, input.userId), eq(erasureRequests.status, "scheduled"), eq(erasureRequests.disabledAccount, true)))
      .returning({ id: erasureRequests.id });
    if (!held) return unchanged(ctx, input.userId);
    return recordDeactivation(ctx, input, user.disabledAt, 0, held.id);
  }
  if (user.isAdmin) {
    const others = await ctx.db.select({ id: users.id }).from(users).where(and(eq(users.isAdmin, true), isNull(users.disabledAt), ne(users.id, input.userId)));
    if (others.length === 0) return fail("LAST_ADMIN", "At least one active admin must remain.");
  }
  const now = ctx.now();
  await ctx.db.update(users).set({ disabledAt: now, updatedAt: now }).where(eq(users.id, input.userId));
  const revokedSessions = await revokeUserSessions(ctx.db, input.userId, "account-deactivated", now);
  return recordDeactivation(ctx, input, now, revokedSessions);
}

async function recordDeactivation(ctx: DomainContext, input: { userId: string; reason?: string }, deactivatedAt: Date, revokedSessions: number, fromErasureId?: string) {
  await recordAudit(ctx, {
    action: "user.deactivated",
    targetType: "user",
    targetId: input.userId,
    details: { reason: input.reason ?? null, revokedSessions, ...(fromErasureId ? { takenOverFromErasure: fromErasureId } : {}) },
  });
  await recordEvent(ctx, { type: "user.deactivated", aggregateType: "user", aggregateId: input.userId, data: { userId: input.userId, deactivatedAt: deactivatedAt.toISOString() } });
  return changedTo(ctx, input.userId, revokedSessions);
}

/**
 * An admin switches a deactivated account back on; the user signs in again (no session survived). An erased
 * account stays off, and so does one whose erasure is scheduled: cancelling the erasure is what enables it.
 */
export async function reactivateUser(
  ctx: DomainContext,
  userId: string,
): Promise<Result<LifecycleChange, "USER_NOT_FOUND" | "USER_ALREADY_ERASED" | "ERASURE_ALREADY_SCHEDULED">> {
  const [user] = await ctx.db.select({ disabledAt: users.disabledAt, erasedAt: users.erasedAt }).from(users).where(eq(users.id, userId)).for("update");
  if (!user) return fail("USER_NOT_FOUND");
  if (user.erasedAt) return fail("USER_ALREADY_ERASED", "This user's personal data was erased; the account cannot be used again.");
  const [scheduled] = await ctx.db
    .select({ dueAt: erasureRequests.dueAt })
    .from(erasureRequests)
    .where(and(eq(erasureRequests.userId, userId), eq(erasureRequests.status, "scheduled")));
  if (scheduled) {
    return fail("ERASURE_ALREADY_SCHEDULED", "An erasure of this user is scheduled; cancel it (DELETE /api/v1/users/{userId}/erase) to keep the account.", {
      dueAt: scheduled.dueAt.toISOString(),
    });
  }
  if (!user.disabledAt) return unchanged(ctx, userId);
  const now = ctx.now();
  await ctx.db.update(users).set({ disabledAt: null, updatedAt: now }).where(eq(users.id, userId));
  await recordAudit(ctx, { action: "user.reactivated", targetType: "user", targetId: userId, details: { deactivatedAt: user.disabledAt.toISOString() } });
  await recordEvent(ctx, { type: "user.reactivated", aggregateType: "user", aggregateId: userId, data: { userId, reactivatedAt: now.toISOString() } });
  return changedTo(ctx, userId, 0);
}

async function unchanged(ctx: DomainContext, userId: string) {
  return ok({ user: (await findUserView(ctx.db, userId)) as UserView, changed: false, revokedSessions: 0 });
}

async function changedTo(ctx: DomainContext, userId: string, revokedSessions: number) {
  return ok({ user: (await findUserView(ctx.db, userId)) as UserView, changed: true, revokedSessions });
}
