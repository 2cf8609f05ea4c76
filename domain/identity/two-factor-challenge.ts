import { createHash, randomBytes } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import { twoFactorChallenges, twoFactorCredentials, users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { ACCOUNT_DISABLED_DETAIL } from "./identity.errors.js";
import { clearKeys, slowDownMs } from "./login-throttle.js";
import { issueRefreshToken } from "./refresh-tokens.js";
import { checkTotp, codeLockedFor, recordCodeFailure, resealIfStale, spendRecoveryCode, throttleKeyOf, type TwoFactorDeps } from "./two-factor.js";
import type { SignedIn } from "./login.js";

/** How long the second step of a sign-in may take. */
export const CHALLENGE_TTL_SECONDS = 300;

// Only the hash is stored: a leaked row cannot be used to finish someone's sign-in.
const hashToken = (token: string) => createHash("sha256").update(token).digest("base64url");

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

/**
 * The second step of a sign-in. Runs on the pool like the password step: the failure counters must persist
 * although the attempt fails. The success path runs in one transaction that locks the challenge (two uses race
 * to one winner) and the credential (a code is accepted once, even across two challenges).
 */
export async function completeTwoFactorSignIn(
  ctx: DomainContext,
  input: { challengeToken: string } & SecondFactor,
  options: SecondStepOptions,
): Promise<Result<SignedIn, "INVALID_TWO_FACTOR_CHALLENGE" | "INVALID_TWO_FACTOR_CODE" | "TWO_FACTOR_THROTTLED" | "ACCOUNT_DISABLED">> {
  const tokenHash = hashToken(input.challengeToken);
  const [challenge] = await ctx.db.select().from(twoFactorChallenges).where(eq(twoFactorChallenges.tokenHash, tokenHash));
  if (!challenge || challenge.usedAt || challenge.expiresAt.getTime() <= ctx.now().getTime()) return invalidChallenge();
  const { userId } = challenge;
  const locked = await codeLockedFor(ctx, userId);
  if (locked > 0) return fail("TWO_FACTOR_THROTTLED", "Too many wrong codes; try again later.", { retryAfterSeconds: locked });

  const outcome = await ctx.db.transaction(async (tx) => {
    const txCtx = { ...ctx, db: tx };
    const [current] = await tx.select().from(twoFactorChallenges).where(and(eq(twoFactorChallenges.id, challenge.id), isNull(twoFactorChallenges.usedAt))).for("update");
    if (!current) return { kind: "invalid" as const };
    const [credential] = await tx.select().from(twoFactorCredentials).where(eq(twoFactorCredentials.userId, userId)).for("update");
    // Reset by an admin since the password step: nothing to check the code against.
    if (!credential?.confirmedAt) return { kind: "invalid" as const };
    const now = ctx.now();
    let method: "totp" | "recovery-code";
    if ("code" in input) {
      const check = checkTotp(options, credential, input.code, now);
      if (!check.ok) return { kind: "wrong" as const, reason: check.reason };
      await tx.update(twoFactorCredentials).set({ lastUsedStep: check.step, updatedAt: now }).where(eq(twoFactorCredentials.userId, userId));
      method = "totp";
    } else {
      if (!(await spendRecoveryCode(tx, userId, input.recoveryCode, now))) return { kind: "wrong" as const, reason: "recovery-code" };
      await recordAudit(txCtx, { action: "auth.recovery-code-used", actorUserId: userId, targetType: "user", targetId: userId });
      method = "recovery-code";
    }
    await tx.update(twoFactorChallenges).set({ usedAt: now }).where(eq(twoFactorChallenges.id, challenge.id));
    const [user] = await tx.select({ disabledAt: users.disabledAt }).from(users).where(eq(users.id, userId));
    if (!user || user.disabledAt) return { kind: "disabled" as const };
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
    case "disabled":
      return fail("ACCOUNT_DISABLED", ACCOUNT_DISABLED_DETAIL);
    case "wrong": {
      const { failures } = await recordCodeFailure(ctx, userId, outcome.reason, options.throttle);
      await options.sleep(slowDownMs(failures, options.throttle));
      return fail(
        "INVALID_TWO_FACTOR_CODE",
        outcome.reason === "replayed" ? "This code was used already; wait for the next one." : outcome.reason === "recovery-code" ? "The recovery code is not correct or was used already." : "The code is not correct.",
      );
    }
  }
}
