import { eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { loginThrottles, users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { composeEmail, type ComposedEmail } from "../notifications/compose-email.js";
import { recordDirectEmails } from "../notifications/direct-emails.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { type AccountTokenErrorCode, issueAccountToken, lockAccountToken, markAccountTokenUsed } from "./account-tokens.js";
import { clearAccountFailures } from "./login-throttle.js";
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

/**
 * Counts one request against a key in the shared throttle table (its own key prefixes: `reset-account:`,
 * `reset-ip:`), restarting the count once the window has passed. Atomic, so concurrent requests all count.
 */
async function countRequest(db: Executor, key: string, now: Date): Promise<{ count: number; windowEndsAt: Date }> {
  const windowStart = sql`${new Date(now.getTime() - WINDOW_S * 1000).toISOString()}::timestamptz`;
  const nowValue = sql`${now.toISOString()}::timestamptz`;
  const [row] = await db
    .insert(loginThrottles)
    .values({ key, failures: 1, windowStartedAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: loginThrottles.key,
      set: {
        failures: sql`case when ${loginThrottles.windowStartedAt} < ${windowStart} then 1 else ${loginThrottles.failures} + 1 end`,
        windowStartedAt: sql`case when ${loginThrottles.windowStartedAt} < ${windowStart} then ${nowValue} else ${loginThrottles.windowStartedAt} end`,
        updatedAt: now,
      },
    })
    .returning({ count: loginThrottles.failures, windowStartedAt: loginThrottles.windowStartedAt });
  return { count: row?.count ?? 1, windowEndsAt: new Date((row?.windowStartedAt ?? now).getTime() + WINDOW_S * 1000) };
}

/**
 * Asks for a password reset link. The answer and the database work are the same whether the address has a usable
 * account or not (a token row is written either way; one that names no user can never be redeemed): only then is
 * the email recorded, and it is sent after the answer. Past the per-address limit nothing is issued, silently;
 * past the per-client limit the request is refused, which says nothing about the address. Run it in a transaction.
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
  // A deactivated account gets no link, exactly as an unknown address.
  const usable = user && !user.disabledAt ? user : undefined;
  const issued = await issueAccountToken(ctx, { purpose: "password-reset", email, userId: usable?.id ?? null, ttlMs: options.ttlMinutes * 60_000 });
  await recordAudit(ctx, { action: "user.password-reset-requested", actorUserId: null, targetType: "user", targetId: usable?.id ?? email, details: { emailed: Boolean(usable) } });
  if (usable) {
    await recordDirectEmails(ctx, [
      composeEmail("password-reset", usable.locale, usable.email, { appUrl: options.appUrl, name: usable.displayName, token: issued.token, expiresAt: issued.expiresAt.toUTCString() }),
    ]);
  }
  return ok(undefined);
}

const ACCOUNT_DISABLED_DETAIL = "This account is deactivated; contact your administrator.";

/**
 * Sets a new password with a reset token: every session of the user ends, the account's sign-in failures are
 * cleared, the address counts as confirmed (the link reached it), and a "your password was changed" email is
 * recorded. The token row is locked first, so of two confirmations racing with one token exactly one wins; a
 * refusal changes nothing. Run it in a transaction.
 */
export async function confirmPasswordReset(
  ctx: DomainContext,
  input: { token: string; newPassword: string },
  kdf: ScryptParams,
  notify: { appUrl: string },
): Promise<Result<{ userId: string; revokedSessions: number }, AccountTokenErrorCode | "ACCOUNT_DISABLED">> {
  // Hashed before any lock is taken: the KDF's time is spent outside it.
  const passwordHash = await hashPassword(input.newPassword, kdf);
  const locked = await lockAccountToken(ctx, "password-reset", input.token);
  if (!locked.ok) return locked;
  const row = locked.value;
  const [user] = row.userId ? await ctx.db.select().from(users).where(eq(users.id, row.userId)).for("update") : [];
  if (!user || user.email !== row.email) return fail("TOKEN_INVALID", "This link is not valid. Use the link from the latest email.");
  if (user.disabledAt) return fail("ACCOUNT_DISABLED", ACCOUNT_DISABLED_DETAIL);

  const now = ctx.now();
  await ctx.db
    .update(users)
    .set({ passwordHash, passwordChangedAt: now, updatedAt: now, emailVerifiedAt: user.emailVerifiedAt ?? now })
    .where(eq(users.id, user.id));
  await markAccountTokenUsed(ctx, row.id);
  const revokedSessions = await revokeUserSessions(ctx.db, user.id, "password-reset", now);
  await clearAccountFailures(ctx.db, user.email);
  await recordAudit(ctx, { action: "user.password-reset", actorUserId: user.id, targetType: "user", targetId: user.id, details: { revokedSessions } });
  await recordDirectEmails(ctx, [passwordChangedEmail(user, now, notify.appUrl)]);
  return ok({ userId: user.id, revokedSessions });
}

/** System mail, always sent (no token in it): tells the owner their password changed, in case it was not them. */
export const passwordChangedEmail = (user: { email: string; displayName: string; locale: string }, changedAt: Date, appUrl: string): ComposedEmail =>
  composeEmail("password-changed", user.locale, user.email, { appUrl, name: user.displayName, changedAt: changedAt.toUTCString() });
