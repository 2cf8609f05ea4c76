import { eq } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { externalIdentities, users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { composeEmail, type ComposedEmail } from "../notifications/compose-email.js";
import { recordDirectEmails } from "../notifications/direct-emails.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { type AccountTokenErrorCode, issueAccountToken, lockAccountToken, markAccountTokenUsed, peekAccountToken } from "./account-tokens.js";
import { clearAccountFailures, countInWindow } from "./login-throttle.js";
import { ACCOUNT_DISABLED_DETAIL } from "./identity.errors.js";
import { hashPassword, type ScryptParams } from "./password-hash.js";
import { revokeUserSessions } from "./refresh-tokens.js";

export interface PasswordResetOptions {
  ttlMinutes: number;
  appUrl: string;
  /** Requests per address per hour that send an email; later ones are answered alike and send nothing. */
  maxPerAccount: number;
  /** Requests per client address per hour; later ones are refused (429), whatever address they name. */
  maxPerAddress: number;
}

const WINDOW_S = 3_600;

/** Counts one request against a key of its own prefix (`reset-account:`, `reset-ip:`) in the shared throttle table. */
async function countRequest(db: Executor, key: string, now: Date): Promise<{ count: number; windowEndsAt: Date }> {
  const { count, windowStartedAt } = await countInWindow(db, key, WINDOW_S, now);
  return { count, windowEndsAt: new Date(windowStartedAt.getTime() + WINDOW_S * 1000) };
}

/**
 * Asks for a password reset link. The answer is the same whether the address has a usable account or not, and the
 * database work nearly so: the counters, the lookup, a token row (one that names no user can never be redeemed) and
 * an audit entry are written either way; only for a usable account is the email recorded (one more row, sent after
 * the answer). Past the per-address limit nothing is issued, silently; past the per-client limit the request is
 * refused, which says nothing about the address. Not usable: unknown, deactivated, or signing in only through an
 * identity provider (a link would give that account a local password). Run it in a transaction.
 */
export async function requestPasswordReset(ctx: DomainContext, email: string, options: PasswordResetOptions): Promise<Result<void, "PASSWORD_RESET_THROTTLED">> {
  const now = ctx.now();
  if (ctx.actor.clientIp) {
    const byClient = await countRequest(ctx.db, `reset-ip:${ctx.actor.clientIp}`, now);
    if (byClient.count > options.maxPerAddress) {
      const retryAfterSeconds = Math.max(1, Math.ceil((byClient.windowEndsAt.getTime() - now.getTime()) / 1000));
      return fail("PASSWORD_RESET_THROTTLED", "Too many password reset requests from this network; try again later.", { retryAfterSeconds });
    }
  }
  const byAccount = await countRequest(ctx.db, `reset-account:${email}`, now);
  if (byAccount.count > options.maxPerAccount) return ok(undefined);

  const [user] = await ctx.db.select().from(users).where(eq(users.email, email));
  const externalOnly = user && !user.passwordHash ? await hasExternalIdentity(ctx, user.id) : false;
  // A deactivated or external-only account gets no link, exactly as an unknown address.
  const usable = user && !user.disabledAt && !externalOnly ? user : undefined;
  const issued = await issueAccountToken(ctx, { purpose: "password-reset", email, userId: usable?.id ?? null, ttlMs: options.ttlMinutes * 60_000 });
  // An address no account has is not kept: whatever anyone typed would stay in the audit log for good.
  await recordAudit(ctx, { action: "user.password-reset-requested", actorUserId: null, targetType: "user", ...(user ? { targetId: user.id } : {}), details: { emailed: Boolean(usable) } });
  if (usable) {
    await recordDirectEmails(ctx, [
      composeEmail("password-reset", usable.locale, usable.email, { appUrl: options.appUrl, name: usable.displayName, token: issued.token, expiresAt: issued.expiresAt.toUTCString() }),
    ], { inbox: false });
  }
  return ok(undefined);
}

async function hasExternalIdentity(ctx: DomainContext, userId: string): Promise<boolean> {
  const [row] = await ctx.db.select({ userId: externalIdentities.userId }).from(externalIdentities).where(eq(externalIdentities.userId, userId)).limit(1);
  return row !== undefined;
}

/**
 * Sets a new password with a reset token: every session of the user ends, the account's sign-in failures are
 * cleared, the address counts as confirmed (the link reached it), and a "your password was changed" email is
 * recorded. Runs on the pool: the token is looked up first without a lock (a forged, used or expired one is refused
 * before any hashing), the new password is hashed holding no connection or lock, and only then does a transaction
 * lock the token row and check it again, so of two confirmations racing with one token exactly one wins; a
 * refusal changes nothing.
 */
export async function confirmPasswordReset(
  ctx: DomainContext,
  input: { token: string; newPassword: string },
  kdf: ScryptParams,
  notify: { appUrl: string },
): Promise<Result<{ userId: string; revokedSessions: number }, AccountTokenErrorCode | "ACCOUNT_DISABLED">> {
  const seen = await peekAccountToken(ctx, "password-reset", input.token);
  if (!seen.ok) return seen;
  if (!seen.value.userId) return fail("TOKEN_INVALID", "This link is not valid. Use the link from the latest email.");
  const passwordHash = await hashPassword(input.newPassword, kdf);
  return ctx.db.transaction(async (tx) => {
    const txCtx = { ...ctx, db: tx };
    const locked = await lockAccountToken(txCtx, "password-reset", input.token);
    if (!locked.ok) return locked;
    const row = locked.value;
    const [user] = row.userId ? await tx.select().from(users).where(eq(users.id, row.userId)).for("update") : [];
    if (!user || user.email !== row.email) return fail("TOKEN_INVALID", "This link is not valid. Use the link from the latest email.");
    if (user.disabledAt) return fail("ACCOUNT_DISABLED", ACCOUNT_DISABLED_DETAIL);

    const now = ctx.now();
    await tx
      .update(users)
      .set({ passwordHash, passwordChangedAt: now, updatedAt: now, emailVerifiedAt: user.emailVerifiedAt ?? now })
      .where(eq(users.id, user.id));
    await markAccountTokenUsed(txCtx, row.id);
    const revokedSessions = await revokeUserSessions(tx, user.id, "password-reset", now);
    await clearAccountFailures(tx, user.email);
    await recordAudit(txCtx, { action: "user.password-reset", actorUserId: user.id, targetType: "user", targetId: user.id, details: { revokedSessions } });
    await recordDirectEmails(txCtx, [passwordChangedEmail(user, now, notify.appUrl)]);
    return ok({ userId: user.id, revokedSessions });
  });
}

/** System mail, always sent (no token in it): tells the owner their password changed, in case it was not them. */
export const passwordChangedEmail = (user: { email: string; displayName: string; locale: string }, changedAt: Date, appUrl: string): ComposedEmail =>
  composeEmail("password-changed", user.locale, user.email, { appUrl, name: user.displayName, changedAt: changedAt.toUTCString() });
