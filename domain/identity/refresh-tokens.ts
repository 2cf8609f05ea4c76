import { randomBytes } from "node:crypto";
import { and, eq, isNull, min, ne } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { refreshTokens, users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { ACCOUNT_DISABLED_DETAIL } from "./identity.errors.js";
import { hashToken } from "../shared/token-hash.js";

// Only the hash is stored: a leaked table row cannot be replayed as a token.

export interface IssuedRefreshToken {
  token: string;
  familyId: string;
  expiresAt: Date;
}

export async function issueRefreshToken(
  ctx: DomainContext,
  input: { userId: string; familyId?: string; ttlSeconds: number; secondFactor?: boolean },
): Promise<IssuedRefreshToken> {
  const token = randomBytes(32).toString("base64url");
  const familyId = input.familyId ?? ctx.newId();
  const now = ctx.now();
  const expiresAt = new Date(now.getTime() + input.ttlSeconds * 1000);
  await ctx.db.insert(refreshTokens).values({
    id: ctx.newId(),
    familyId,
    userId: input.userId,
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt,
    clientIp: ctx.actor.clientIp,
    secondFactor: input.secondFactor ?? false,
  });
  return { token, familyId, expiresAt };
}

export interface Rotation extends IssuedRefreshToken {
  userId: string;
}

/**
 * Exchanges a refresh token for a new one of the same family. Run it in a transaction: the row lock
 * makes two concurrent uses of one token count as a reuse, never as two rotations.
 */
export async function rotateRefreshToken(
  ctx: DomainContext,
  token: string,
  ttlSeconds: number,
  /** However often it is refreshed, a session ends this long after its sign-in (ASVS 3.3.2). */
  maxAgeSeconds = Number.POSITIVE_INFINITY,
): Promise<Result<Rotation, "INVALID_REFRESH_TOKEN" | "REFRESH_TOKEN_REUSED" | "ACCOUNT_DISABLED">> {
  const now = ctx.now();
  const [row] = await ctx.db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, hashToken(token))).for("update");
  if (row?.revokedAt && row.revokedReason === "account-deactivated") {
    // Deactivation ended this session: say why, as long as the account stays deactivated.
    const [owner] = await ctx.db.select({ disabledAt: users.disabledAt }).from(users).where(eq(users.id, row.userId));
    if (owner?.disabledAt) return fail("ACCOUNT_DISABLED", ACCOUNT_DISABLED_DETAIL);
  }
  if (!row || row.revokedAt) return fail("INVALID_REFRESH_TOKEN", "Sign in again.");
  if (row.rotatedAt) {
    // A token that was already exchanged is being replayed: someone else may hold the family. End it.
    await revokeFamily(ctx.db, row.familyId, "reuse-detected", now);
    await recordAudit(ctx, {
      action: "auth.refresh-family-revoked",
      actorUserId: row.userId,
      targetType: "user",
      targetId: row.userId,
      details: { familyId: row.familyId, reason: "reuse-detected" },
    });
    return fail("REFRESH_TOKEN_REUSED", "This refresh token was already used; every session of its family has been ended.");
  }
  if (row.expiresAt.getTime() <= now.getTime()) return fail("INVALID_REFRESH_TOKEN", "The refresh token has expired; sign in again.");
  const [user] = await ctx.db.select({ disabledAt: users.disabledAt }).from(users).where(eq(users.id, row.userId));
  if (!user || user.disabledAt) {
    await revokeFamily(ctx.db, row.familyId, "account-disabled", now);
    return fail("ACCOUNT_DISABLED", ACCOUNT_DISABLED_DETAIL);
  }
  const [family] = await ctx.db.select({ startedAt: min(refreshTokens.createdAt) }).from(refreshTokens).where(eq(refreshTokens.familyId, row.familyId));
  const secondsLeft = ((family?.startedAt ?? row.createdAt).getTime() + maxAgeSeconds * 1000 - now.getTime()) / 1000;
  if (secondsLeft <= 0) {
    await revokeFamily(ctx.db, row.familyId, "max-age", now);
    return fail("INVALID_REFRESH_TOKEN", "The session has reached its maximum age; sign in again.");
  }
  await ctx.db.update(refreshTokens).set({ rotatedAt: now }).where(eq(refreshTokens.id, row.id));
  // The new token never outlives the session's maximum age, so its expiry tells the client when to sign in again.
  const next = await issueRefreshToken(ctx, { userId: row.userId, familyId: row.familyId, ttlSeconds: Math.min(ttlSeconds, Math.floor(secondsLeft)), secondFactor: row.secondFactor });
  return ok({ ...next, userId: row.userId });
}

/** Ends a session: every live token of the family. */
async function revokeFamily(db: Executor, familyId: string, reason: string, now: Date): Promise<void> {
  await db
    .update(refreshTokens)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

/** Logout: ends the session (the token's family). Unknown tokens are ignored: logout reveals nothing. */
export async function revokeRefreshToken(ctx: DomainContext, token: string): Promise<void> {
  const [row] = await ctx.db
    .select({ familyId: refreshTokens.familyId, userId: refreshTokens.userId })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hashToken(token)));
  if (!row) return;
  await revokeFamily(ctx.db, row.familyId, "logout", ctx.now());
  await recordAudit(ctx, { action: "auth.logout", actorUserId: row.userId, targetType: "user", targetId: row.userId, details: { familyId: row.familyId } });
}

/** Ends every session of a user, or every one but `exceptFamilyId` (the caller's own, after a password change). */
export async function revokeUserSessions(db: Executor, userId: string, reason: string, now: Date, exceptFamilyId?: string): Promise<number> {
  const revoked = await db
    .update(refreshTokens)
    .set({ revokedAt: now, revokedReason: reason })
    .where(
      and(
        eq(refreshTokens.userId, userId),
        isNull(refreshTokens.revokedAt),
        exceptFamilyId ? ne(refreshTokens.familyId, exceptFamilyId) : undefined,
      ),
    )
    .returning({ id: refreshTokens.id });
  return revoked.length;
}
