import { randomBytes } from "node:crypto";
import { Secret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerFlags, twoFactorRuleCovers } from "../../../domain/identity/caller.js";
import { hashPassword } from "../../../domain/identity/password-hash.js";
import { confirmEnrollment, startEnrollment, type TwoFactorDeps } from "../../../domain/identity/two-factor.js";
import { completeTwoFactorSignIn, issueChallenge } from "../../../domain/identity/two-factor-challenge.js";
import { housekeeping } from "../../../domain/maintenance/housekeeping.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import { createSecretSealer, type SealingKey } from "../../../functions/platform/webhook-secrets.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";

let db: TestDatabase;
let ctx: DomainContext;

const kdf = { logN: 10, r: 8, p: 1 };
const oldKey: SealingKey = { id: "old", key: randomBytes(32) };
const newKey: SealingKey = { id: "new", key: randomBytes(32) };
const throttle = { windowSeconds: 900, maxFailuresPerAccount: 5, maxFailuresPerAddress: 20, baseLockSeconds: 30, maxLockSeconds: 900, slowAfter: 1000 };
const depsWith = (ring: SealingKey[]): TwoFactorDeps => ({ sealer: createSecretSealer(ring), throttle });
const secondStepOptions = (deps: TwoFactorDeps) => ({ ...deps, refreshTtlSeconds: 3600, sleep: async () => undefined });
const codeAt = (secret: string, steps = 0) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() + steps * 30_000 });

beforeAll(async () => {
  ({ db, ctx } = await openDomainDatabase());
});

afterAll(async () => {
  await db?.drop();
});

/** A user with two-factor sign-in on, its secret sealed under `ring`'s first key and confirmed with the current code. */
async function enrolledUser(deps: TwoFactorDeps): Promise<{ userId: string; secret: string; recoveryCodes: string[] }> {
  const userId = ctx.newId();
  const password = "Correct-Horse-Battery";
  await db.sql`insert into users (id, email, display_name, password_hash) values (${userId}, ${`${userId}@example.test`}, 'U', ${await hashPassword(password, kdf)})`;
  const run = inTransactionOf(db, ctx);
  const started = await run((tx) => startEnrollment(tx, { userId, currentPassword: password }, { ...deps, kdf }));
  if (!started.ok) throw new Error(started.error.code);
  const confirmed = await run((tx) => confirmEnrollment(tx, { userId, code: codeAt(started.value.secret), sessionId: null }, deps));
  if (!confirmed.ok) throw new Error(confirmed.error.code);
  return { userId, secret: started.value.secret, recoveryCodes: confirmed.value.recoveryCodes };
}

describe("the second step of a sign-in under concurrency", () => {
  it("accepts one code once when two challenges present it at the same moment", async () => {
    const deps = depsWith([newKey]);
    const { userId, secret } = await enrolledUser(deps);
    const [a, b] = await Promise.all([issueChallenge(ctx, userId), issueChallenge(ctx, userId)]);
    const code = codeAt(secret, 1);
    const results = await Promise.all([a, b].map((c) => completeTwoFactorSignIn(ctx, { challengeToken: c.token, code }, secondStepOptions(deps))));
    expect(results.map((r) => (r.ok ? "ok" : r.error.code)).sort()).toEqual(["INVALID_TWO_FACTOR_CODE", "ok"]);
  });

  it("lets one challenge sign in once when a code and a recovery code race on it", async () => {
    const deps = depsWith([newKey]);
    const { userId, secret, recoveryCodes } = await enrolledUser(deps);
    const { token } = await issueChallenge(ctx, userId);
    const results = await Promise.all([
      completeTwoFactorSignIn(ctx, { challengeToken: token, code: codeAt(secret, 1) }, secondStepOptions(deps)),
      completeTwoFactorSignIn(ctx, { challengeToken: token, recoveryCode: recoveryCodes[0] as string }, secondStepOptions(deps)),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toMatchObject({ error: { code: "INVALID_TWO_FACTOR_CHALLENGE" } });
    const [sessions] = await db.sql`select count(distinct family_id)::int as n from refresh_tokens where user_id = ${userId}`;
    expect(sessions?.n).toBe(1);
  });
});

describe("sealing", () => {
  it("seals a secret under a retiring key again under the current one once the user signs in", async () => {
    const { userId, secret } = await enrolledUser(depsWith([oldKey]));
    const [before] = await db.sql`select sealed_secret from two_factor_credentials where user_id = ${userId}`;
    expect(before?.sealed_secret).toMatch(/^enc:v1:old:/);
    const { token } = await issueChallenge(ctx, userId);
    const rotated = depsWith([newKey, oldKey]);
    expect((await completeTwoFactorSignIn(ctx, { challengeToken: token, code: codeAt(secret, 1) }, secondStepOptions(rotated))).ok).toBe(true);
    const [after] = await db.sql`select sealed_secret from two_factor_credentials where user_id = ${userId}`;
    expect(after?.sealed_secret).toMatch(/^enc:v1:new:/);
    // The secret is bound to its user: copied onto another user's row, it does not open there.
    const other = await enrolledUser(depsWith([newKey]));
    await db.sql`update two_factor_credentials set sealed_secret = ${after?.sealed_secret as string} where user_id = ${other.userId}`;
    const { token: stolen } = await issueChallenge(ctx, other.userId);
    await expect(completeTwoFactorSignIn(ctx, { challengeToken: stolen, code: codeAt(secret, 1) }, secondStepOptions(rotated))).rejects.toThrow();
  });
});

describe("housekeeping", () => {
  it("purges challenges past the token retention and keeps recent ones", async () => {
    const { userId } = await enrolledUser(depsWith([newKey]));
    await issueChallenge(ctx, userId);
    await issueChallenge(ctx, userId);
    await db.sql`update two_factor_challenges set expires_at = now() - interval '40 days' where id = (select id from two_factor_challenges where user_id = ${userId} order by id limit 1)`;
    const result = await housekeeping(db.db, new Date(), { eventDays: 30, tokenDays: 30 }, { remove: async () => undefined, removePrefix: async () => 0 });
    expect(result.twoFactorChallenges).toBeGreaterThanOrEqual(1);
    const left = await db.sql`select id from two_factor_challenges where user_id = ${userId}`;
    expect(left).toHaveLength(1);
  });
});

describe("starting enrollment", () => {
  it("checks the password without waiting for (or holding) the user row's lock", async () => {
    const deps = depsWith([newKey]);
    const userId = ctx.newId();
    await db.sql`insert into users (id, email, display_name, password_hash) values (${userId}, ${`${userId}@example.test`}, 'U', ${await hashPassword("Correct-Horse-Battery", kdf)})`;
    // Another transaction holds the row: a wrong password is answered all the same, without queueing behind it.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked = () => {};
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holder = db.sql.begin(async (tx) => {
      await tx`select id from users where id = ${userId} for update`;
      locked();
      await held;
    });
    await lockTaken;
    try {
      const answer = await Promise.race([
        startEnrollment(ctx, { userId, currentPassword: "Wrong-Horse-Battery" }, { ...deps, kdf }),
        new Promise<"waited">((resolve) => setTimeout(() => resolve("waited"), 3_000)),
      ]);
      expect(answer).toMatchObject({ ok: false, error: { code: "CURRENT_PASSWORD_INCORRECT" } });
    } finally {
      release();
      await holder;
    }
  });
});

describe("who the two-factor rule covers", () => {
  it("covers the bursar (finance role) like an admin, under admins and staff, and a plain learner under neither", async () => {
    const [bursar, learner] = [ctx.newId(), ctx.newId()];
    await db.sql`insert into users (id, email, display_name, is_finance) values (${bursar}, ${`${bursar}@example.test`}, 'B', true), (${learner}, ${`${learner}@example.test`}, 'L', false)`;
    for (const rule of ["admins", "staff"] as const) {
      expect(await twoFactorRuleCovers(ctx.db, bursar, rule)).toBe(true);
      expect((await callerFlags(ctx.db, bursar, null, rule))?.twoFactorPending).toBe(true);
      expect(await twoFactorRuleCovers(ctx.db, learner, rule)).toBe(false);
    }
    expect(await twoFactorRuleCovers(ctx.db, bursar, "none")).toBe(false);
  });
});
