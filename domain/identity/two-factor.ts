import { and, count, eq, isNull } from "drizzle-orm";
import { Secret, TOTP } from "otpauth";
import type { Executor } from "../db/client.js";
import { refreshTokens, twoFactorCredentials, twoFactorRecoveryCodes, users } from "../db/schema/index.js";
import { recordAudit } from "../audit/record-audit.js";
import { composeEmail } from "../notifications/compose-email.js";
import { recordDirectEmails } from "../notifications/direct-emails.js";
import type { DomainContext } from "../shared/context.js";
import { fail, ok, type Result } from "../shared/result.js";
import { clearKeys, countInWindow, lockedFor, recordLoginFailure, type ThrottlePolicy } from "./login-throttle.js";
import { type ScryptParams, verifyPassword } from "./password-hash.js";
import { twoFactorRuleCovers, type TwoFactorRule } from "./caller.js";
import { revokeUserSessions } from "./refresh-tokens.js";
import { hashToken } from "../shared/token-hash.js";

/**
 * Seals the TOTP secret for storage and opens it to check a code. The key material lives outside the domain;
 * `binding` is authenticated with the ciphertext, so a sealed secret copied onto another user's row does not open.
 */
export interface TotpSecretSealer {
  seal(plaintext: string, binding: string): string;
  open(stored: string, binding: string): string;
  isSealed(stored: string): boolean;
  /** Sealed under the key that seals now. */
  isCurrent(stored: string): boolean;
}

export interface TwoFactorDeps {
  sealer: TotpSecretSealer;
  throttle: ThrottlePolicy;
}

const ISSUER = "Ringlet";
const PERIOD = 30;
const DIGITS = 6;
const ALGORITHM = "SHA1";
/** One step either side: a phone clock off by up to 30 s still works (RFC 6238 §5.2). */
const WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;

// Distinct from a webhook's binding (its id): the same key ring seals both, for different purposes.
const bindingOf = (userId: string) => `two-factor:${userId}`;
export const throttleKeyOf = (userId: string) => `totp:${userId}`;

/** Recovery codes are typed by people: case, spaces and hyphens do not matter. */
export const normalizeRecoveryCode = (code: string) => code.toUpperCase().replace(/[\s-]/g, "");
export const hashRecoveryCode = (code: string) => hashToken(normalizeRecoveryCode(code));

/** 15 random bytes = 120 bits (above the 112 ASVS asks of unsalted lookup secrets), as 4 groups of 6 base32 letters. */
function newRecoveryCode(): string {
  return (new Secret({ size: 15 }).base32.match(/.{6}/g) ?? []).join("-");
}

type Credential = typeof twoFactorCredentials.$inferSelect;

function openSecret(deps: TwoFactorDeps, credential: Credential): Secret {
  // A plain value here was not written by this code: refuse it rather than trust it.
  if (!deps.sealer.isSealed(credential.sealedSecret)) throw new Error(`two-factor secret of ${credential.userId} is not sealed`);
  return Secret.fromBase32(deps.sealer.open(credential.sealedSecret, bindingOf(credential.userId)));
}

export type CodeCheck = { ok: true; step: number } | { ok: false; reason: "wrong" | "replayed" };

/** Checks a TOTP code against a credential; a code for a step at or before the last accepted one is a replay. */
export function checkTotp(deps: TwoFactorDeps, credential: Credential, code: string, now: Date): CodeCheck {
  const timestamp = now.getTime();
  const delta = TOTP.validate({ token: code, secret: openSecret(deps, credential), algorithm: ALGORITHM, digits: DIGITS, period: PERIOD, timestamp, window: WINDOW });
  if (delta === null) return { ok: false, reason: "wrong" };
  const step = TOTP.counter({ period: PERIOD, timestamp }) + delta;
  if (credential.lastUsedStep !== null && step <= credential.lastUsedStep) return { ok: false, reason: "replayed" };
  return { ok: true, step };
}

/**
 * Seals the secret again under the current key once it was sealed under a retired one. Called where a correct
 * second factor was just checked on the locked row, so every user who signs in moves off a retiring key.
 */
export async function resealIfStale(db: Executor, deps: TwoFactorDeps, credential: Credential): Promise<void> {
  if (deps.sealer.isCurrent(credential.sealedSecret)) return;
  const binding = bindingOf(credential.userId);
  const sealedSecret = deps.sealer.seal(deps.sealer.open(credential.sealedSecret, binding), binding);
  await db.update(twoFactorCredentials).set({ sealedSecret }).where(eq(twoFactorCredentials.userId, credential.userId));
}

/** Spends one unused recovery code of the user; the conditional update makes two uses of one code race to one winner. */
export async function spendRecoveryCode(db: Executor, userId: string, code: string, now: Date): Promise<boolean> {
  const spent = await db
    .update(twoFactorRecoveryCodes)
    .set({ usedAt: now })
    .where(and(eq(twoFactorRecoveryCodes.userId, userId), eq(twoFactorRecoveryCodes.codeHash, hashRecoveryCode(code)), isNull(twoFactorRecoveryCodes.usedAt)))
    .returning({ id: twoFactorRecoveryCodes.id });
  return spent.length > 0;
}

/** Counts a wrong code against the user (and the client address) with the sign-in policy, and audits it. */
export async function recordCodeFailure(
  ctx: DomainContext,
  userId: string,
  reason: string,
  throttle: ThrottlePolicy,
  // At sign-in a replayed code means someone else saw it. The owner's own signed-in operations (new recovery codes,
  // switching off) often reuse the code they just signed in with: refused, but no alarm.
  options: { noticeReplay: boolean } = { noticeReplay: true },
): Promise<{ failures: number }> {
  const keys = [throttleKeyOf(userId), ...(ctx.actor.clientIp ? [`ip:${ctx.actor.clientIp}`] : [])];
  const outcome = await recordLoginFailure(ctx.db, keys, throttle, ctx.now());
  await recordAudit(ctx, { action: "auth.two-factor-failed", actorUserId: userId, targetType: "user", targetId: userId, details: { reason, failures: outcome.failures } });
  if (reason === "replayed" && options.noticeReplay) await noticeReplay(ctx, userId);
  if (outcome.lockedSeconds > 0) {
    await recordAudit(ctx, {
      action: "auth.two-factor-locked",
      actorUserId: userId,
      targetType: "user",
      targetId: userId,
      details: { lockedSeconds: outcome.lockedSeconds, failures: outcome.failures },
    });
  }
  return outcome;
}

/**
 * A replayed code means someone saw a code the owner used (ASVS 2.8.5): the owner is told, at most once an hour
 * (system mail, recorded in the caller's transaction and sent after commit; it carries no code).
 */
async function noticeReplay(ctx: DomainContext, userId: string): Promise<void> {
  const { count } = await countInWindow(ctx.db, `totp-replay-notice:${userId}`, 3_600, ctx.now());
  if (count > 1) return;
  const [user] = await ctx.db.select({ email: users.email, displayName: users.displayName, locale: users.locale }).from(users).where(eq(users.id, userId));
  if (!user) return;
  await recordDirectEmails(ctx, [composeEmail("two-factor-code-replayed", user.locale, user.email, { name: user.displayName, usedAt: ctx.now().toUTCString() })]);
}

/** Seconds the user (or the client address) must wait before another code is looked at; 0 when none. */
export function codeLockedFor(ctx: DomainContext, userId: string): Promise<number> {
  return lockedFor(ctx.db, [throttleKeyOf(userId), ...(ctx.actor.clientIp ? [`ip:${ctx.actor.clientIp}`] : [])], ctx.now());
}

const throttled = (seconds: number) => fail("TWO_FACTOR_THROTTLED", "Too many wrong codes; try again later.", { retryAfterSeconds: seconds });
const incorrect = (reason: "wrong" | "replayed") =>
  fail("TWO_FACTOR_CODE_INCORRECT", reason === "replayed" ? "This code was used already; wait for the next one." : "The code is not correct.");

async function confirmedCredential(db: Executor, userId: string, lock = false): Promise<Credential | undefined> {
  const q = db.select().from(twoFactorCredentials).where(eq(twoFactorCredentials.userId, userId));
  const [row] = lock ? await q.for("update") : await q;
  return row;
}

/** True when the user signs in with a second factor (a confirmed authenticator). */
export async function hasTwoFactor(db: Executor, userId: string): Promise<boolean> {
  const row = await confirmedCredential(db, userId);
  return Boolean(row?.confirmedAt);
}

export interface Enrollment {
  secret: string;
  otpauthUri: string;
}

/**
 * Starts (or restarts) enrollment: a new secret waits for its first code. The password is asked again, so a
 * stolen session alone cannot bind an attacker's authenticator. Users without a password sign in through an
 * identity provider, whose own second factor applies. Runs on the pool (it opens its own transaction).
 */
export async function startEnrollment(
  ctx: DomainContext,
  input: { userId: string; currentPassword: string },
  deps: TwoFactorDeps & { kdf: ScryptParams },
): Promise<Result<Enrollment, "USER_NOT_FOUND" | "CURRENT_PASSWORD_INCORRECT" | "TWO_FACTOR_NOT_AVAILABLE" | "TWO_FACTOR_ALREADY_ENABLED">> {
  // The password is checked on the pool, holding no lock or connection through the KDF; then, in a transaction,
  // the user row is locked and the hash compared again (a password changed meanwhile refuses).
  const [seen] = await ctx.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, input.userId));
  if (!seen) return fail("USER_NOT_FOUND");
  if (!seen.passwordHash) return fail("TWO_FACTOR_NOT_AVAILABLE", "This account signs in through an identity provider; its second factor applies there.");
  if (!(await verifyPassword(input.currentPassword, seen.passwordHash, deps.kdf)).ok) return fail("CURRENT_PASSWORD_INCORRECT", "The current password is not correct.");

  const secret = new Secret({ size: 20 });
  const sealedSecret = deps.sealer.seal(secret.base32, bindingOf(input.userId));
  const started = await ctx.db.transaction(async (tx) => {
    // "no key update": a concurrent sign-in's refresh-token insert takes a key-share lock on this row (its foreign
    // key) while holding the credential; a full update lock here would deadlock with it.
    const [user] = await tx.select({ email: users.email, passwordHash: users.passwordHash }).from(users).where(eq(users.id, input.userId)).for("no key update");
    if (!user) return fail("USER_NOT_FOUND");
    if (user.passwordHash !== seen.passwordHash) return fail("CURRENT_PASSWORD_INCORRECT", "The current password is not correct.");
    const existing = await confirmedCredential(tx, input.userId, true);
    if (existing?.confirmedAt) return fail("TWO_FACTOR_ALREADY_ENABLED", "Turn two-factor sign-in off first to enroll another authenticator.");
    const now = ctx.now();
    await tx
      .insert(twoFactorCredentials)
      .values({ userId: input.userId, sealedSecret, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: twoFactorCredentials.userId, set: { sealedSecret, confirmedAt: null, lastUsedStep: null, createdAt: now, updatedAt: now } });
    return ok(user);
  });
  if (!started.ok) return started;
  const user = started.value;
  const totp = new TOTP({ issuer: ISSUER, label: user.email, secret, algorithm: ALGORITHM, digits: DIGITS, period: PERIOD });
  return ok({ secret: secret.base32, otpauthUri: totp.toString() });
}

/** Tells the owner that their second factor changed: a change they did not make is noticed (sent after commit). */
async function notifyOwner(ctx: DomainContext, userId: string, template: "two-factor-enabled" | "two-factor-disabled"): Promise<void> {
  const [user] = await ctx.db.select({ email: users.email, displayName: users.displayName, locale: users.locale }).from(users).where(eq(users.id, userId));
  if (!user) return;
  await recordDirectEmails(ctx, [composeEmail(template, user.locale, user.email, { name: user.displayName, changedAt: ctx.now().toUTCString() })]);
}

async function newRecoveryCodes(ctx: DomainContext, userId: string): Promise<string[]> {
  await ctx.db.delete(twoFactorRecoveryCodes).where(eq(twoFactorRecoveryCodes.userId, userId));
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const now = ctx.now();
  await ctx.db.insert(twoFactorRecoveryCodes).values(codes.map((code) => ({ id: ctx.newId(), userId, codeHash: hashRecoveryCode(code), createdAt: now })));
  return codes;
}

/**
 * Checks a TOTP code for an authenticated operation on the locked credential: throttled like sign-in, wrong
 * codes counted and audited (the caller's transaction commits them with the failure it returns).
 */
async function verifiedForOperation(
  ctx: DomainContext,
  userId: string,
  code: string,
  deps: TwoFactorDeps,
  state: "pending" | "confirmed",
): Promise<Result<{ credential: Credential; step: number }, "TWO_FACTOR_THROTTLED" | "TWO_FACTOR_CODE_INCORRECT" | "TWO_FACTOR_NOT_PENDING" | "TWO_FACTOR_NOT_ENABLED">> {
  const credential = await confirmedCredential(ctx.db, userId, true);
  if (state === "pending" && (!credential || credential.confirmedAt)) return fail("TWO_FACTOR_NOT_PENDING", "Start enrollment first (POST /api/v1/me/two-factor).");
  if (state === "confirmed" && !credential?.confirmedAt) return fail("TWO_FACTOR_NOT_ENABLED");
  const locked = await codeLockedFor(ctx, userId);
  if (locked > 0) return throttled(locked);
  const check = checkTotp(deps, credential as Credential, code, ctx.now());
  if (!check.ok) {
    await recordCodeFailure(ctx, userId, check.reason, deps.throttle, { noticeReplay: false });
    return incorrect(check.reason);
  }
  await clearKeys(ctx.db, [throttleKeyOf(userId)]);
  await resealIfStale(ctx.db, deps, credential as Credential);
  return ok({ credential: credential as Credential, step: check.step });
}

/**
 * Confirms enrollment with a first code: two-factor sign-in is on, and the ten recovery codes are answered this
 * once (only their hashes are kept). The session that confirmed it has just proved the second factor, so it
 * counts as signed in with it.
 */
export async function confirmEnrollment(
  ctx: DomainContext,
  input: { userId: string; code: string; sessionId: string | null },
  deps: TwoFactorDeps,
): Promise<Result<{ recoveryCodes: string[] }, "TWO_FACTOR_THROTTLED" | "TWO_FACTOR_CODE_INCORRECT" | "TWO_FACTOR_NOT_PENDING" | "TWO_FACTOR_NOT_ENABLED">> {
  const verified = await verifiedForOperation(ctx, input.userId, input.code, deps, "pending");
  if (!verified.ok) return verified;
  const now = ctx.now();
  await ctx.db.update(twoFactorCredentials).set({ confirmedAt: now, lastUsedStep: verified.value.step, updatedAt: now }).where(eq(twoFactorCredentials.userId, input.userId));
  const recoveryCodes = await newRecoveryCodes(ctx, input.userId);
  if (input.sessionId) {
    await ctx.db
      .update(refreshTokens)
      .set({ secondFactor: true })
      .where(and(eq(refreshTokens.familyId, input.sessionId), eq(refreshTokens.userId, input.userId)));
  }
  await recordAudit(ctx, { action: "user.two-factor-enabled", targetType: "user", targetId: input.userId });
  await notifyOwner(ctx, input.userId, "two-factor-enabled");
  return ok({ recoveryCodes });
}

/** Turns two-factor sign-in off: the password and a current code, so neither a stolen session nor a stolen phone alone can. */
export async function disableTwoFactor(
  ctx: DomainContext,
  input: { userId: string; currentPassword: string; code: string },
  deps: TwoFactorDeps & { kdf: ScryptParams; rule: TwoFactorRule },
): Promise<
  Result<void, "USER_NOT_FOUND" | "CURRENT_PASSWORD_INCORRECT" | "TWO_FACTOR_THROTTLED" | "TWO_FACTOR_CODE_INCORRECT" | "TWO_FACTOR_NOT_PENDING" | "TWO_FACTOR_NOT_ENABLED" | "TWO_FACTOR_MANDATORY">
> {
  const [user] = await ctx.db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, input.userId));
  if (!user) return fail("USER_NOT_FOUND");
  // Their session keeps its second-factor mark (and refresh copies it): turning it off would let them keep the
  // powers the rule guards without one. An admin's reset, which ends every session, is the way out.
  if (await twoFactorRuleCovers(ctx.db, input.userId, deps.rule)) {
    return fail("TWO_FACTOR_MANDATORY", "Your account must sign in with a second factor; ask an administrator to reset it if you lost your authenticator.");
  }
  // The KDF runs on the pool, holding no connection or lock (like startEnrollment); the transaction then checks
  // the password did not change meanwhile.
  if (!user.passwordHash || !(await verifyPassword(input.currentPassword, user.passwordHash, deps.kdf)).ok) {
    return fail("CURRENT_PASSWORD_INCORRECT", "The current password is not correct.");
  }
  return ctx.db.transaction(async (tx) => {
    const txCtx = { ...ctx, db: tx };
    const [current] = await tx.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, input.userId)).for("no key update");
    if (!current) return fail("USER_NOT_FOUND");
    if (current.passwordHash !== user.passwordHash) return fail("CURRENT_PASSWORD_INCORRECT", "The current password is not correct.");
    const verified = await verifiedForOperation(txCtx, input.userId, input.code, deps, "confirmed");
    if (!verified.ok) return verified;
    await removeTwoFactor(tx, input.userId);
    await recordAudit(txCtx, { action: "user.two-factor-disabled", targetType: "user", targetId: input.userId });
    await notifyOwner(txCtx, input.userId, "two-factor-disabled");
    return ok(undefined);
  });
}

/** New recovery codes for a current TOTP code; the old ones stop working. */
export async function regenerateRecoveryCodes(
  ctx: DomainContext,
  input: { userId: string; code: string },
  deps: TwoFactorDeps,
): Promise<Result<{ recoveryCodes: string[] }, "TWO_FACTOR_THROTTLED" | "TWO_FACTOR_CODE_INCORRECT" | "TWO_FACTOR_NOT_PENDING" | "TWO_FACTOR_NOT_ENABLED">> {
  const verified = await verifiedForOperation(ctx, input.userId, input.code, deps, "confirmed");
  if (!verified.ok) return verified;
  await ctx.db.update(twoFactorCredentials).set({ lastUsedStep: verified.value.step, updatedAt: ctx.now() }).where(eq(twoFactorCredentials.userId, input.userId));
  const recoveryCodes = await newRecoveryCodes(ctx, input.userId);
  await recordAudit(ctx, { action: "user.recovery-codes-regenerated", targetType: "user", targetId: input.userId });
  return ok({ recoveryCodes });
}

export interface TwoFactorStatus {
  enabled: boolean;
  /** An enrollment waits for its first code. */
  pending: boolean;
  enabledAt: Date | null;
  remainingRecoveryCodes: number;
}

export async function twoFactorStatus(db: Executor, userId: string): Promise<TwoFactorStatus> {
  const credential = await confirmedCredential(db, userId);
  const [remaining] = await db
    .select({ n: count() })
    .from(twoFactorRecoveryCodes)
    .where(and(eq(twoFactorRecoveryCodes.userId, userId), isNull(twoFactorRecoveryCodes.usedAt)));
  return {
    enabled: Boolean(credential?.confirmedAt),
    pending: Boolean(credential && !credential.confirmedAt),
    enabledAt: credential?.confirmedAt ?? null,
    remainingRecoveryCodes: credential?.confirmedAt ? (remaining?.n ?? 0) : 0,
  };
}

async function removeTwoFactor(db: Executor, userId: string): Promise<boolean> {
  const removed = await db.delete(twoFactorCredentials).where(eq(twoFactorCredentials.userId, userId)).returning({ userId: twoFactorCredentials.userId });
  await db.delete(twoFactorRecoveryCodes).where(eq(twoFactorRecoveryCodes.userId, userId));
  return removed.length > 0;
}

/**
 * An admin resets a user's second factor (a lost phone): the authenticator and recovery codes are removed and
 * every session of the user ends, so whoever holds one signs in again. Resetting a user without one is a no-op
 * that still ends the sessions.
 */
export async function resetTwoFactor(ctx: DomainContext, userId: string): Promise<Result<{ hadTwoFactor: boolean; revokedSessions: number }, "USER_NOT_FOUND">> {
  // "no key update", as in startEnrollment: a sign-in finishing at the same moment holds the credential and inserts
  // a refresh token that key-share locks this row.
  const [user] = await ctx.db.select({ id: users.id }).from(users).where(eq(users.id, userId)).for("no key update");
  if (!user) return fail("USER_NOT_FOUND");
  const hadTwoFactor = await removeTwoFactor(ctx.db, userId);
  const revokedSessions = await revokeUserSessions(ctx.db, userId, "two-factor-reset", ctx.now());
  await recordAudit(ctx, { action: "user.two-factor-reset", targetType: "user", targetId: userId, details: { hadTwoFactor, revokedSessions } });
  if (hadTwoFactor) await notifyOwner(ctx, userId, "two-factor-disabled");
  return ok({ hadTwoFactor, revokedSessions });
}
