import { eq } from "drizzle-orm";
import { users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { clearAccountFailures, lockedFor, recordLoginFailure, slowDownMs, type ThrottlePolicy, throttleKeys } from "./login-throttle.js";
import { burnPasswordCheck, hashPassword, type ScryptParams, verifyPassword } from "./password-hash.js";
import { type IssuedRefreshToken, issueRefreshToken } from "./refresh-tokens.js";
import { ACCOUNT_DISABLED_DETAIL } from "./identity.errors.js";
import { emailNotVerified, mayNotSignIn, type UnverifiedAccess } from "./email-verification.js";
import { hasTwoFactor } from "./two-factor.js";
import { type IssuedChallenge, issueChallenge } from "./two-factor-challenge.js";

export interface LoginOptions {
  kdf: ScryptParams;
  throttle: ThrottlePolicy;
  refreshTtlSeconds: number;
  /** `none`: an account whose address is not confirmed cannot sign in (AUTH_UNVERIFIED_ACCESS). */
  unverifiedAccess: UnverifiedAccess;
  /** How a failed answer is slowed down; tests pass a no-op. */
  sleep(ms: number): Promise<void>;
}

export interface SignedIn {
  userId: string;
  refresh: IssuedRefreshToken;
}

/** The password was right; the user has two-factor sign-in on, so the session waits for the second step. */
export interface SecondFactorNeeded {
  userId: string;
  challenge: IssuedChallenge;
}

/**
 * Password sign-in with per-account and per-address throttling. Runs on the pool, not in one transaction:
 * the failure counters must persist although the attempt fails, and the KDF should not hold a connection.
 */
export async function loginWithPassword(
  ctx: DomainContext,
  input: { email: string; password: string },
  options: LoginOptions,
): Promise<Result<SignedIn | SecondFactorNeeded, "INVALID_CREDENTIALS" | "LOGIN_THROTTLED" | "ACCOUNT_DISABLED" | "EMAIL_NOT_VERIFIED">> {
  const keys = throttleKeys(input.email, ctx.actor.clientIp);
  const locked = await lockedFor(ctx.db, keys, ctx.now());
  if (locked > 0) {
    return fail("LOGIN_THROTTLED", "Too many failed sign-ins; try again later.", { retryAfterSeconds: locked });
  }

  const [user] = await ctx.db.select().from(users).where(eq(users.email, input.email));
  const verification = user?.passwordHash
    ? await verifyPassword(input.password, user.passwordHash, options.kdf)
    : (await burnPasswordCheck(input.password, options.kdf), { ok: false, needsRehash: false });

  if (!user || !verification.ok) {
    const outcome = await recordLoginFailure(ctx.db, keys, options.throttle, ctx.now());
    await recordAudit(ctx, {
      action: "auth.login-failed",
      actorUserId: user?.id ?? null,
      targetType: "user",
      targetId: user?.id ?? input.email,
      details: { failures: outcome.failures },
    });
    if (outcome.lockedSeconds > 0) {
      await recordAudit(ctx, {
        action: "auth.login-locked",
        actorUserId: user?.id ?? null,
        targetType: "user",
        targetId: user?.id ?? input.email,
        details: { lockedSeconds: outcome.lockedSeconds, failures: outcome.failures },
      });
    }
    await options.sleep(slowDownMs(outcome.failures, options.throttle));
    return fail("INVALID_CREDENTIALS", "The email address or password is not correct.");
  }

  if (user.disabledAt) return fail("ACCOUNT_DISABLED", ACCOUNT_DISABLED_DETAIL);
  if (mayNotSignIn(options.unverifiedAccess, user.emailVerifiedAt)) return { ok: false, error: emailNotVerified("sign in") };
  await clearAccountFailures(ctx.db, input.email);
  if (verification.needsRehash) {
    // The cost was raised since this hash was made: upgrade it now that we know the password.
    await ctx.db.update(users).set({ passwordHash: await hashPassword(input.password, options.kdf) }).where(eq(users.id, user.id));
  }
  if (await hasTwoFactor(ctx.db, user.id)) return ok({ userId: user.id, challenge: await issueChallenge(ctx, user.id) });
  const refresh = await issueRefreshToken(ctx, { userId: user.id, ttlSeconds: options.refreshTtlSeconds });
  await recordAudit(ctx, { action: "auth.login-succeeded", actorUserId: user.id, targetType: "user", targetId: user.id, details: { familyId: refresh.familyId } });
  return ok({ userId: user.id, refresh });
}
