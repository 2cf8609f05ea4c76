import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { twoFactorChallenges, twoFactorCredentials, users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { ACCOUNT_DISABLED_DETAIL } from "./identity.errors.js";
import { clearKeys, slowDownMs } from "./login-throttle.js";
import { issueRefreshToken } from "./refresh-tokens.js";
import { checkTotp, codeLockedFor, recordCodeFailure, resealIfStale, spendRecoveryCode, throttleKeyOf, type TwoFactorDeps } from "./two-factor.js";
import type { SignedIn } from "./login.js";
import { hashToken } from "../shared/token-hash.js";

/** How long the second step of a sign-in may take. */
export const CHALLENGE_TTL_SECONDS = 300;

// Only the hash is stored: a leaked row cannot be used to finish someone's sign-in.

export interface IssuedChallenge {
  token: string;
  expiresIn: number;
}

/** After a correct password, for a user with two-factor sign-in on: the token the second step presents. */
export async function issueChallenge(ctx: DomainContext, userId: string): Promise<IssuedChallenge> {
  const token = randomBytes(32).toString("base64url");
  const now = ctx.now();
  await ctx.db.insert(twoFactorChallenges).values({
    id: ctx.newId(),
    userId,
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt: new Date(now.getTime() + CHALLENGE_TTL_SECONDS * 1000),
  });
  await recordAudit(ctx, { action: "auth.two-factor-challenged", actorUserId: userId, targetType: "user", targetId: userId });
  return { token, expiresIn: CHALLENGE_TTL_SECONDS };
}

export type SecondFactor = { code: string } | { recoveryCode: string };

export interface SecondStepOptions extends TwoFactorDeps {
  refreshTtlSeconds: number;
  /** How a failed answer is slowed down; tests pass a no-op. */
  sleep(ms: number): Promise<void>;
}

const invalidChallenge = () => fail("INVALID_TWO_FACTOR_CHALLENGE", "The sign-in challenge is unknown, used or expired; sign in with your password again.");

/** Wrong codes one challenge answers before it dies; the account's own throttle applies as well. */
export const MAX_WRONG_CODES_PER_CHALLENGE = 5;

/**
 * The second step of a sign-in, in one transaction that locks the challenge (two uses race to one winner) and then
 * the credential (a code is accepted once, even across two challenges). Every check runs under those locks, so
 * parallel guesses queue and each sees the failures counted before it: the lock check, the failure count and the
 * audit are written in the same transaction, which commits for a wrong code too (only its answer is a failure).
 * Nothing is spent before the account is known to be usable and the challenge still current.
 */
export async function completeTwoFactorSignIn(
  ctx: DomainContext,
  input: { challengeToken: string } & SecondFactor,
  options: SecondStepOptions,
): Promise<Result<SignedIn, "INVALID_TWO_FACTOR_CHALLENGE" | "INVALID_TWO_FACTOR_CODE" | "TWO_FACTOR_THROTTLED" | "ACCOUNT_DISABLED">> {
  const tokenHash = hashToken(input.challengeToken);
  // Unlocked look first: a forged or expired token costs one indexed read and no transaction. A used one goes on,
  // so that a locked account is answered 429 whatever became of the challenge its guesses killed.
  const [challenge] = await ctx.db.select().from(twoFactorChallenges).where(eq(twoFactorChallenges.tokenHash, tokenHash));
  if (!challenge || challenge.expiresAt.getTime() <= ctx.now().getTime()) return invalidChallenge();
  const { userId } = challenge;

  const outcome = await ctx.db.transaction(async (tx) => {
    const txCtx = { ...ctx, db: tx };
    const [current] = await tx.select().from(twoFactorChallenges).where(eq(twoFactorChallenges.id, challenge.id)).for("update");
    if (!current) return { kind: "invalid" as const };
    const [credential] = await tx.select().from(twoFactorCredentials).where(eq(twoFactorCredentials.userId, userId)).for("update");
    // A locked account answers 429 whatever the challenge's state, so parallel guesses past the limit all hear it.
    const locked = await codeLockedFor(txCtx, userId);
    if (locked > 0) return { kind: "throttled" as const, locked };
    if (current.usedAt) return { kind: "invalid" as const };
    const [user] = await tx.select({ disabledAt: users.disabledAt, passwordChangedAt: users.passwordChangedAt }).from(users).where(eq(users.id, userId));
    // Deactivated since the password step: refused before any code or challenge is spent.
    if (!user || user.disabledAt) return { kind: "disabled" as const };
    // The password changed (reset or change) after this challenge proved the old one: it proves nothing now.
    if (user.passwordChangedAt && current.createdAt.getTime() < user.passwordChangedAt.getTime()) return { kind: "invalid" as const };
    // Reset by an admin since the password step: nothing to check the code against.
    if (!credential?.confirmedAt) return { kind: "invalid" as const };
    const now = ctx.now();
    let method: "totp" | "recovery-code";
    if ("code" in input) {
      const check = checkTotp(options, credential, input.code, now);
      if (!check.ok) return wrongCode(txCtx, current.id, userId, check.reason, options);
      await tx.update(twoFactorCredentials).set({ lastUsedStep: check.step, updatedAt: now }).where(eq(twoFactorCredentials.userId, userId));
      method = "totp";
    } else {
      if (!(await spendRecoveryCode(tx, userId, input.recoveryCode, now))) return wrongCode(txCtx, current.id, userId, "recovery-code", options);
      await recordAudit(txCtx, { action: "auth.recovery-code-used", actorUserId: userId, targetType: "user", targetId: userId });
      method = "recovery-code";
    }
    await tx.update(twoFactorChallenges).set({ usedAt: now }).where(eq(twoFactorChallenges.id, challenge.id));
    await clearKeys(tx, [throttleKeyOf(userId)]);
    await resealIfStale(tx, options, credential);
    const refresh = await issueRefreshToken(txCtx, { userId, ttlSeconds: options.refreshTtlSeconds, secondFactor: true });
    await recordAudit(txCtx, { action: "auth.login-succeeded", actorUserId: userId, targetType: "user", targetId: userId, details: { familyId: refresh.familyId, secondFactor: method } });
    return { kind: "signed-in" as const, refresh };
  });

  switch (outcome.kind) {
    case "signed-in":
      return ok({ userId, refresh: outcome.refresh });
    case "invalid":
      return invalidChallenge();
    case "throttled":
      return fail("TWO_FACTOR_THROTTLED", "Too many wrong codes; try again later.", { retryAfterSeconds: outcome.locked });
    case "disabled":
      return fail("ACCOUNT_DISABLED", ACCOUNT_DISABLED_DETAIL);
    case "wrong": {
      // Slowed after commit: the locks are not held while the caller waits.
      await options.sleep(slowDownMs(outcome.failures, options.throttle));
      return fail(
        "INVALID_TWO_FACTOR_CODE",
        outcome.reason === "replayed" ? "This code was used already; wait for the next one." : outcome.reason === "recovery-code" ? "The recovery code is not correct or was used already." : "The code is not correct.",
      );
    }
  }
}

/** Counts a wrong code against the account and the challenge, in the transaction holding both locks. */
async function wrongCode(ctx: DomainContext, challengeId: string, userId: string, reason: "wrong" | "replayed" | "recovery-code", options: SecondStepOptions) {
  const { failures } = await recordCodeFailure(ctx, userId, reason, options.throttle);
  await ctx.db
    .update(twoFactorChallenges)
    .set({
      failedAttempts: sql`${twoFactorChallenges.failedAttempts} + 1`,
      usedAt: sql`case when ${twoFactorChallenges.failedAttempts} + 1 >= ${MAX_WRONG_CODES_PER_CHALLENGE} then ${ctx.now().toISOString()}::timestamptz else null end`,
    })
    .where(eq(twoFactorChallenges.id, challengeId));
  return { kind: "wrong" as const, reason, failures };
}
