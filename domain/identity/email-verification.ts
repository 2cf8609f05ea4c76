import { and, count, eq, gt, max, min } from "drizzle-orm";
import { accountTokens, users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { composeEmail } from "../notifications/compose-email.js";
import { recordDirectEmails } from "../notifications/direct-emails.js";
import type { DomainContext } from "../shared/context.js";
import { type DomainError, fail, ok, type Result } from "../shared/result.js";
import { type AccountTokenErrorCode, issueAccountToken, lockAccountToken, markAccountTokenUsed } from "./account-tokens.js";

/**
 * What an account whose address is not confirmed may do (the `AUTH_UNVERIFIED_ACCESS` setting): `browse` signs in
 * and looks but does not enroll, `full` does everything, `none` cannot sign in until the address is confirmed.
 */
export type UnverifiedAccess = "browse" | "full" | "none";

export interface VerificationOptions {
  ttlHours: number;
  /** The web app the link opens. */
  appUrl: string;
}

// A resend is refused within a minute of the last email, and past five a day: each one is a real email.
const RESEND_INTERVAL_S = 60;
const RESENDS_PER_DAY = 5;

export const emailNotVerified = (doing: "sign in" | "enroll in a course"): DomainError<"EMAIL_NOT_VERIFIED"> => ({
  code: "EMAIL_NOT_VERIFIED",
  detail:
    `Confirm your email address before you ${doing}: follow the link in the confirmation email we sent you, ` +
    (doing === "sign in"
      ? "or ask for a password reset link (POST /api/v1/auth/password-reset), which confirms the address too."
      : "or ask for a new one with POST /api/v1/auth/verify-email/resend."),
});

/** Whether the policy keeps an unconfirmed account from signing in (`none`). */
export const mayNotSignIn = (policy: UnverifiedAccess, emailVerifiedAt: Date | null): boolean => policy === "none" && emailVerifiedAt === null;

/** Whether the policy keeps an unconfirmed account from enrolling (anything but `full`). */
export const mayNotEnroll = (policy: UnverifiedAccess, emailVerified: boolean): boolean => policy !== "full" && !emailVerified;

interface Recipient {
  id: string;
  email: string;
  displayName: string;
  locale: string;
}

/** Issues a confirmation link (superseding earlier ones) and records its email, sent after commit. */
export async function sendVerificationEmail(ctx: DomainContext, user: Recipient, options: VerificationOptions): Promise<{ expiresAt: Date }> {
  const issued = await issueAccountToken(ctx, { purpose: "verify-email", email: user.email, userId: user.id, ttlMs: options.ttlHours * 3_600_000 });
  await recordDirectEmails(ctx, [
    composeEmail("verify-email", user.locale, user.email, { appUrl: options.appUrl, name: user.displayName, token: issued.token, expiresAt: issued.expiresAt.toUTCString() }),
  ], { inbox: false });
  return { expiresAt: issued.expiresAt };
}

/** Confirms the address the token was sent to. The token works once; a refusal changes nothing. Run it in a transaction. */
export async function verifyEmail(ctx: DomainContext, token: string): Promise<Result<{ userId: string }, AccountTokenErrorCode>> {
  const locked = await lockAccountToken(ctx, "verify-email", token);
  if (!locked.ok) return locked;
  const row = locked.value;
  const now = ctx.now();
  // The address must still be the one the link went to.
  const updated = row.userId
    ? await ctx.db
        .update(users)
        .set({ emailVerifiedAt: now, updatedAt: now })
        .where(and(eq(users.id, row.userId), eq(users.email, row.email)))
        .returning({ id: users.id })
    : [];
  if (updated.length === 0) return fail("TOKEN_INVALID", "This link is not valid for any account now.");
  await markAccountTokenUsed(ctx, row.id);
  await recordAudit(ctx, { action: "user.email-verified", actorUserId: row.userId, targetType: "user", targetId: row.userId ?? undefined });
  return ok({ userId: row.userId as string });
}

/**
 * Sends a new confirmation link to a signed-in user whose address is not confirmed. At most one a minute and five a
 * day (counting the one sent at registration); the user's row lock makes concurrent resends queue, so none slips by.
 */
export async function resendVerificationEmail(
  ctx: DomainContext,
  userId: string,
  options: VerificationOptions,
): Promise<Result<{ expiresAt: Date }, "USER_NOT_FOUND" | "EMAIL_ALREADY_VERIFIED" | "VERIFICATION_THROTTLED">> {
  const [user] = await ctx.db.select().from(users).where(eq(users.id, userId)).for("update");
  if (!user) return fail("USER_NOT_FOUND");
  if (user.emailVerifiedAt) return fail("EMAIL_ALREADY_VERIFIED", "Your email address is confirmed already.");
  const now = ctx.now();
  const dayAgo = new Date(now.getTime() - 86_400_000);
  const [sent] = await ctx.db
    .select({ today: count(), first: min(accountTokens.createdAt), last: max(accountTokens.createdAt) })
    .from(accountTokens)
    .where(and(eq(accountTokens.purpose, "verify-email"), eq(accountTokens.userId, userId), gt(accountTokens.createdAt, dayAgo)));
  const sinceLast = sent?.last ? (now.getTime() - new Date(sent.last).getTime()) / 1000 : Infinity;
  if (sinceLast < RESEND_INTERVAL_S) {
    return fail("VERIFICATION_THROTTLED", "A confirmation email was sent less than a minute ago; check your inbox.", { retryAfterSeconds: Math.ceil(RESEND_INTERVAL_S - sinceLast) });
  }
  if ((sent?.today ?? 0) >= RESENDS_PER_DAY) {
    // The day's count drops when its oldest email is a day old.
    const oldest = sent?.first ? new Date(sent.first).getTime() : now.getTime();
    const retryAfterSeconds = Math.max(1, Math.ceil((oldest + 86_400_000 - now.getTime()) / 1000));
    return fail("VERIFICATION_THROTTLED", `At most ${RESENDS_PER_DAY} confirmation emails are sent a day.`, { retryAfterSeconds });
  }
  return ok(await sendVerificationEmail(ctx, user, options));
}
