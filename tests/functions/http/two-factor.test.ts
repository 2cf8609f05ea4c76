import { Secret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../../support/app.js";
import type { TestDatabase } from "../../support/database.js";
import { call, createCourse, login, signUp, type TestUser } from "../../support/identity.js";
import { waitForMail } from "../../support/mailbox.js";
import { expectProblem } from "../../support/problems.js";

let started: { db: TestDatabase; app: RunningApp };
let db: TestDatabase;
let app: RunningApp;

beforeAll(async () => {
  // Admins and course staff must sign in with a second factor here; failures are not slowed (the lock is what is tested),
  // and every case shares 127.0.0.1, so the per-address limit is out of the way.
  started = await startAppOnOwnDatabase({
    AUTH_TWO_FACTOR_REQUIRED: "staff",
    AUTH_LOGIN_SLOW_AFTER: "1000",
    AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: "1000",
  });
  ({ db, app } = started);
});

afterAll(() => stopAppAndDatabase(started));

/** The first mail to `address` whose subject starts so, once the development mailbox has it. */
const mailTo = (address: string, subjectStart: string) => waitForMail(app, address, subjectStart);

/** The code an authenticator app shows `steps` time steps from now (the server accepts one step either side). */
const codeAt = (secret: string, steps = 0) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() + steps * 30_000 });

interface Enrolled {
  user: TestUser;
  secret: string;
  recoveryCodes: string[];
  /** The code the confirmation spent: offered again, it is a replay whatever the clock did meanwhile. */
  spentCode: string;
}

/** Enrolls and confirms with the current code: the next accepted code is one step ahead. */
async function enroll(user: TestUser): Promise<Enrolled> {
  const started = await call(app, "POST", "/v1/me/two-factor", { token: user.accessToken, body: { currentPassword: user.password } });
  expect(started.status, await started.clone().text()).toBe(201);
  const { secret } = (await started.json()) as { secret: string };
  const spentCode = codeAt(secret);
  const confirmed = await call(app, "POST", "/v1/me/two-factor/confirm", { token: user.accessToken, body: { code: spentCode } });
  expect(confirmed.status, await confirmed.clone().text()).toBe(200);
  const { recoveryCodes } = (await confirmed.json()) as { recoveryCodes: string[] };
  return { user, secret, recoveryCodes, spentCode };
}

/** A six-digit code no step around now accepts. */
const wrongCodeFor = (secret: string) => {
  const valid = [-2, -1, 0, 1, 2].map((step) => codeAt(secret, step));
  return ["000000", "111111", "222222", "333333", "444444", "555555"].find((c) => !valid.includes(c)) as string;
};

async function challenge(user: TestUser): Promise<string> {
  const res = await login(app, user.email, user.password);
  expect(res.status, await res.clone().text()).toBe(202);
  return ((await res.json()) as { challengeToken: string }).challengeToken;
}

const secondStep = (body: unknown) => call(app, "POST", "/v1/auth/login/two-factor", { body });
const audit = (action: string, targetId: string) => db.sql`select * from audit_log where action = ${action} and target_id = ${targetId} order by id`;

describe("enrollment", () => {
  it("asks for the password, answers an otpauth URI with a sealed secret, and turns on with a first code and ten recovery codes", async () => {
    const user = await signUp(app, db, { label: "enroller" });
    await expectProblem(await call(app, "POST", "/v1/me/two-factor", { token: user.accessToken, body: { currentPassword: "Not-the-password-1" } }), 403, "CURRENT_PASSWORD_INCORRECT");
    await expectProblem(await call(app, "POST", "/v1/me/two-factor/confirm", { token: user.accessToken, body: { code: "123456" } }), 409, "TWO_FACTOR_NOT_PENDING");

    const res = await call(app, "POST", "/v1/me/two-factor", { token: user.accessToken, body: { currentPassword: user.password } });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { otpauthUri, secret } = (await res.json()) as { otpauthUri: string; secret: string };
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(otpauthUri);
    expect(`${uri.protocol}//${uri.host}${decodeURIComponent(uri.pathname)}`).toBe(`otpauth://totp/Ringlet:${user.email}`);
    expect(Object.fromEntries(uri.searchParams)).toEqual({ secret, issuer: "Ringlet", algorithm: "SHA1", digits: "6", period: "30" });
    const [stored] = await db.sql`select sealed_secret, confirmed_at from two_factor_credentials where user_id = ${user.id}`;
    expect(stored?.sealed_secret).toMatch(/^enc:v1:/);
    expect(stored?.sealed_secret).not.toContain(secret);
    expect(stored?.confirmed_at).toBeNull();
    expect(await jsonOf(await call(app, "GET", "/v1/me/two-factor", { token: user.accessToken }))).toMatchObject({ enabled: false, pending: true });

    await expectProblem(await call(app, "POST", "/v1/me/two-factor/confirm", { token: user.accessToken, body: { code: codeAt(secret, 5) } }), 403, "TWO_FACTOR_CODE_INCORRECT");
    await expectProblem(await call(app, "POST", "/v1/me/two-factor/confirm", { token: user.accessToken, body: { code: "12345" } }), 400, "VALIDATION_FAILED");
    const confirmed = await call(app, "POST", "/v1/me/two-factor/confirm", { token: user.accessToken, body: { code: codeAt(secret) } });
    expect(confirmed.status).toBe(200);
    const { recoveryCodes } = (await confirmed.json()) as { recoveryCodes: string[] };
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[A-Z2-7]{6}(-[A-Z2-7]{6}){3}$/);
    const hashes = await db.sql<{ code_hash: string }[]>`select code_hash from two_factor_recovery_codes where user_id = ${user.id}`;
    expect(hashes).toHaveLength(10);
    expect(JSON.stringify(hashes)).not.toContain(recoveryCodes[0]?.replace(/-/g, "").slice(0, 12));

    expect(await jsonOf(await call(app, "GET", "/v1/me/two-factor", { token: user.accessToken }))).toMatchObject({ enabled: true, pending: false, remainingRecoveryCodes: 10 });
    await expectProblem(await call(app, "POST", "/v1/me/two-factor", { token: user.accessToken, body: { currentPassword: user.password } }), 409, "TWO_FACTOR_ALREADY_ENABLED");
    expect(await audit("user.two-factor-enabled", user.id)).toHaveLength(1);
    // The owner is told, so an enrollment they did not make is noticed; the mail holds no secret.
    const mail = await mailTo(user.email, "Two-factor sign-in is on");
    expect(mail.text).not.toContain(secret);
  });

  it("refuses enrollment to an account without a password (an identity provider's second factor applies)", async () => {
    const user = await signUp(app, db, { label: "external" });
    await db.sql`update users set password_hash = null where id = ${user.id}`;
    await expectProblem(await call(app, "POST", "/v1/me/two-factor", { token: user.accessToken, body: { currentPassword: "anything-at-all" } }), 409, "TWO_FACTOR_NOT_AVAILABLE");
  });
});

describe("signing in with a second factor", () => {
  it("answers 202 with a challenge, then tokens for a code; the challenge and the code work once, a forged challenge never", async () => {
    const { user, secret, spentCode } = await enroll(await signUp(app, db, { label: "totp" }));
    const first = await login(app, user.email, user.password);
    expect(first.status).toBe(202);
    const issued = (await first.json()) as Record<string, unknown>;
    expect(issued).toEqual({ challengeToken: expect.any(String), expiresIn: 300, methods: ["totp", "recovery-code"] });
    expect(JSON.stringify(issued)).not.toMatch(/accessToken|refreshToken/);
    const token = issued.challengeToken as string;
    const [row] = await db.sql`select token_hash from two_factor_challenges where user_id = ${user.id}`;
    expect(row?.token_hash).not.toBe(token);

    // The code the confirmation spent: a replay (the same code, not the current step's, which may have moved on).
    const replay = await expectProblem(await secondStep({ challengeToken: token, code: spentCode }), 401, "INVALID_TWO_FACTOR_CODE");
    expect(replay.detail).toMatch(/used already/);
    const code = codeAt(secret, 1);
    const res = await secondStep({ challengeToken: token, code });
    expect(res.status, await res.clone().text()).toBe(200);
    const tokens = (await res.json()) as { accessToken: string; refreshToken: string };
    expect((await call(app, "GET", "/v1/me", { token: tokens.accessToken })).status).toBe(200);
    const [session] = await db.sql`select second_factor from refresh_tokens where user_id = ${user.id} order by created_at desc limit 1`;
    expect(session?.second_factor).toBe(true);

    await expectProblem(await secondStep({ challengeToken: token, code: codeAt(secret, 1) }), 401, "INVALID_TWO_FACTOR_CHALLENGE");
    // The same code through a new challenge: accepted at most once.
    await expectProblem(await secondStep({ challengeToken: await challenge(user), code }), 401, "INVALID_TWO_FACTOR_CODE");
    await expectProblem(await secondStep({ challengeToken: "forged-challenge-token", code: codeAt(secret, 1) }), 401, "INVALID_TWO_FACTOR_CHALLENGE");
    await expectProblem(await secondStep({ challengeToken: token, code, recoveryCode: "x" }), 400, "VALIDATION_FAILED");
    const stale = await challenge(user);
    await db.sql`update two_factor_challenges set expires_at = now() - interval '1 second' where user_id = ${user.id} and used_at is null`;
    await expectProblem(await secondStep({ challengeToken: stale, code: codeAt(secret, 1) }), 401, "INVALID_TWO_FACTOR_CHALLENGE");
    const succeeded = await audit("auth.login-succeeded", user.id);
    expect(succeeded.at(-1)?.details).toMatchObject({ secondFactor: "totp" });
    expect(succeeded.filter((r) => (r.details as { secondFactor?: string }).secondFactor)).toHaveLength(1);
    // Two replays, one notice (ASVS 2.8.5: at most one an hour), with no code in it.
    const notice = await mailTo(user.email, "A sign-in code of your Ringlet account was used twice");
    expect(notice.text).not.toContain(spentCode);
    const notices = await db.sql`select id from email_deliveries where recipient = ${user.email} and template = 'two-factor-code-replayed'`;
    expect(notices).toHaveLength(1);
  });

  it("checks at most the limit of forty parallel wrong codes on one challenge; the rest are 429, and the challenge dies", async () => {
    const { user, secret } = await enroll(await signUp(app, db, { label: "parallel" }));
    const token = await challenge(user);
    const wrong = wrongCodeFor(secret);
    const answers = await Promise.all(Array.from({ length: 40 }, () => secondStep({ challengeToken: token, code: wrong })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(35);
    expect(await audit("auth.two-factor-failed", user.id)).toHaveLength(5);
    const [row] = await db.sql`select failed_attempts, used_at from two_factor_challenges where user_id = ${user.id}`;
    expect(row?.failed_attempts).toBe(5);
    expect(row?.used_at).not.toBeNull();
    // The lock lifted, the right code still does not revive the challenge.
    await db.sql`delete from login_throttles where key = ${`totp:${user.id}`}`;
    await expectProblem(await secondStep({ challengeToken: token, code: codeAt(secret, 1) }), 401, "INVALID_TWO_FACTOR_CHALLENGE");
  });

  it("refuses a deactivated account before spending the code or the challenge, and a challenge from before a password change", async () => {
    const { user, secret } = await enroll(await signUp(app, db, { label: "deactivated-2fa" }));
    const token = await challenge(user);
    const code = codeAt(secret, 1);
    await db.sql`update users set disabled_at = now() where id = ${user.id}`;
    await expectProblem(await secondStep({ challengeToken: token, code }), 403, "ACCOUNT_DISABLED");
    await db.sql`update users set disabled_at = null where id = ${user.id}`;
    // Neither the code nor the challenge was spent by the refusal.
    const res = await secondStep({ challengeToken: token, code });
    expect(res.status, await res.clone().text()).toBe(200);
    const { accessToken } = (await res.json()) as { accessToken: string };

    const before = await challenge(user);
    const changed = await call(app, "POST", "/v1/me/password", { token: accessToken, body: { currentPassword: user.password, newPassword: `${user.password}-2` } });
    expect(changed.status, await changed.clone().text()).toBe(204);
    await expectProblem(await secondStep({ challengeToken: before, code: codeAt(secret, 2) }), 401, "INVALID_TWO_FACTOR_CHALLENGE");
  });

  it("signs in once with each recovery code, in any case and spacing", async () => {
    const { user, recoveryCodes } = await enroll(await signUp(app, db, { label: "recovery" }));
    const code = recoveryCodes[3] as string;
    const res = await secondStep({ challengeToken: await challenge(user), recoveryCode: ` ${code.toLowerCase().replace(/-/g, " ")} ` });
    expect(res.status, await res.clone().text()).toBe(200);
    const tokens = (await res.json()) as { accessToken: string };
    expect(await jsonOf(await call(app, "GET", "/v1/me/two-factor", { token: tokens.accessToken }))).toMatchObject({ remainingRecoveryCodes: 9 });
    await expectProblem(await secondStep({ challengeToken: await challenge(user), recoveryCode: code }), 401, "INVALID_TWO_FACTOR_CODE");
    expect(await audit("auth.recovery-code-used", user.id)).toHaveLength(1);
  });

  it("throttles wrong codes like passwords: a lock answered 429 with Retry-After, even for the right code, audited", async () => {
    const { user, secret } = await enroll(await signUp(app, db, { label: "guesser" }));
    const token = await challenge(user);
    const valid = [-1, 0, 1].map((step) => codeAt(secret, step));
    const wrong = ["000000", "111111", "222222", "333333"].find((c) => !valid.includes(c)) as string;
    for (let i = 0; i < 5; i++) await expectProblem(await secondStep({ challengeToken: token, code: wrong }), 401, "INVALID_TWO_FACTOR_CODE");
    const locked = await secondStep({ challengeToken: token, code: codeAt(secret, 1) });
    await expectProblem(locked, 429, "TWO_FACTOR_THROTTLED");
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await audit("auth.two-factor-failed", user.id)).toHaveLength(5);
    expect(await audit("auth.two-factor-locked", user.id)).toHaveLength(1);
    const [throttle] = await db.sql`select failures from login_throttles where key = ${`totp:${user.id}`}`;
    expect(throttle?.failures).toBe(5);
  });
});

describe("managing the second factor", () => {
  it("regenerates recovery codes for a code: the old ones stop working, the new ones work", async () => {
    const { user, secret, recoveryCodes } = await enroll(await signUp(app, db, { label: "regen" }));
    await expectProblem(await call(app, "POST", "/v1/me/two-factor/recovery-codes", { token: user.accessToken, body: { code: codeAt(secret, 5) } }), 403, "TWO_FACTOR_CODE_INCORRECT");
    const res = await call(app, "POST", "/v1/me/two-factor/recovery-codes", { token: user.accessToken, body: { code: codeAt(secret, 1) } });
    expect(res.status).toBe(200);
    const fresh = ((await res.json()) as { recoveryCodes: string[] }).recoveryCodes;
    expect(fresh.filter((c) => recoveryCodes.includes(c))).toEqual([]);
    await expectProblem(await secondStep({ challengeToken: await challenge(user), recoveryCode: recoveryCodes[0] }), 401, "INVALID_TWO_FACTOR_CODE");
    expect((await secondStep({ challengeToken: await challenge(user), recoveryCode: fresh[0] })).status).toBe(200);
    expect(await audit("user.recovery-codes-regenerated", user.id)).toHaveLength(1);
  });

  it("turns off with the password and a code, after which the password alone signs in", async () => {
    const { user, secret } = await enroll(await signUp(app, db, { label: "disabler" }));
    await expectProblem(
      await call(app, "DELETE", "/v1/me/two-factor", { token: user.accessToken, body: { currentPassword: "Not-the-password-1", code: codeAt(secret, 1) } }),
      403,
      "CURRENT_PASSWORD_INCORRECT",
    );
    const res = await call(app, "DELETE", "/v1/me/two-factor", { token: user.accessToken, body: { currentPassword: user.password, code: codeAt(secret, 1) } });
    expect(res.status).toBe(204);
    expect((await login(app, user.email, user.password)).status).toBe(200);
    expect(await jsonOf(await call(app, "GET", "/v1/me/two-factor", { token: user.accessToken }))).toMatchObject({ enabled: false, pending: false, remainingRecoveryCodes: 0 });
    const [left] = await db.sql`select (select count(*)::int from two_factor_credentials where user_id = ${user.id}) as credentials, (select count(*)::int from two_factor_recovery_codes where user_id = ${user.id}) as codes`;
    expect(left).toEqual({ credentials: 0, codes: 0 });
    await expectProblem(await call(app, "DELETE", "/v1/me/two-factor", { token: user.accessToken, body: { currentPassword: user.password, code: "123456" } }), 409, "TWO_FACTOR_NOT_ENABLED");
    expect((await mailTo(user.email, "Two-factor sign-in is off")).text).toContain("by you or by an administrator");
  });
});

describe("AUTH_TWO_FACTOR_REQUIRED", () => {
  it("answers 403 TWO_FACTOR_REQUIRED to an admin without a second factor, except on /v1/me, two-factor and auth routes; enrollment then sign-in lift it", async () => {
    const admin = await signUp(app, db, { label: "admin", admin: true });
    // On a public route the pending session has no powers: a draft course is not found, as for anyone.
    const draft = await createCourse(db);
    await expectProblem(await call(app, "GET", `/v1/courses/${draft}`, { token: admin.accessToken }), 404, "COURSE_NOT_FOUND");
    const required = await expectProblem(await call(app, "GET", "/v1/users", { token: admin.accessToken }), 403, "TWO_FACTOR_REQUIRED");
    expect(required.detail).toMatch(/second factor/);
    await expectProblem(await call(app, "PATCH", "/v1/me", { token: admin.accessToken, body: { displayName: "x" } }), 403, "TWO_FACTOR_REQUIRED");
    expect((await call(app, "GET", "/v1/me", { token: admin.accessToken })).status).toBe(200);
    expect((await call(app, "GET", "/v1/me/two-factor", { token: admin.accessToken })).status).toBe(200);

    // Confirming proves the second factor in this session.
    const { secret } = await enroll(admin);
    expect((await call(app, "GET", "/v1/users", { token: admin.accessToken })).status).toBe(200);
    expect((await call(app, "GET", `/v1/courses/${draft}`, { token: admin.accessToken })).status).toBe(200);
    // The rule covers them: turning it off is refused (their session would keep its mark); an admin's reset is the way.
    await expectProblem(
      await call(app, "DELETE", "/v1/me/two-factor", { token: admin.accessToken, body: { currentPassword: admin.password, code: codeAt(secret, 1) } }),
      409,
      "TWO_FACTOR_MANDATORY",
    );
    // A later sign-in needs the second step; its session, refreshed, keeps the mark.
    const signedIn = await secondStep({ challengeToken: await challenge(admin), code: codeAt(secret, 1) });
    const tokens = (await signedIn.json()) as { accessToken: string; refreshToken: string };
    const refreshed = (await (await call(app, "POST", "/v1/auth/refresh", { body: { refreshToken: tokens.refreshToken } })).json()) as { accessToken: string };
    expect((await call(app, "GET", "/v1/users", { token: refreshed.accessToken })).status).toBe(200);
  });

  it("applies to course staff under 'staff' and never to learners", async () => {
    const instructor = await signUp(app, db, { label: "instructor" });
    const learner = await signUp(app, db, { label: "learner" });
    await createCourse(db, [{ userId: instructor.id, role: "instructor" }]);
    await expectProblem(await call(app, "GET", "/v1/me/enrollments", { token: instructor.accessToken }), 403, "TWO_FACTOR_REQUIRED");
    expect((await call(app, "GET", "/v1/me/enrollments", { token: learner.accessToken })).status).toBe(200);
  });
});

describe("an admin's reset of a user's second factor", () => {
  it("removes it and ends every session; a pending challenge dies; the password alone signs in; audited", async () => {
    const admin = await signUp(app, db, { label: "resetter", admin: true });
    await enroll(admin);
    const { user, secret } = await enroll(await signUp(app, db, { label: "lost-phone" }));
    const pending = await challenge(user);

    await expectProblem(await call(app, "DELETE", `/v1/users/${admin.id}/two-factor`, { token: user.accessToken }), 403, "FORBIDDEN");
    await expectProblem(await call(app, "DELETE", `/v1/users/${crypto.randomUUID()}/two-factor`, { token: admin.accessToken }), 404, "USER_NOT_FOUND");
    const res = await call(app, "DELETE", `/v1/users/${user.id}/two-factor`, { token: admin.accessToken });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hadTwoFactor: true, revokedSessions: 1 });

    await expectProblem(await call(app, "GET", "/v1/me", { token: user.accessToken }), 401, "UNAUTHENTICATED");
    await expectProblem(await secondStep({ challengeToken: pending, code: codeAt(secret, 1) }), 401, "INVALID_TWO_FACTOR_CHALLENGE");
    expect((await login(app, user.email, user.password)).status).toBe(200);
    expect(await audit("user.two-factor-reset", user.id)).toEqual([expect.objectContaining({ actor_user_id: admin.id, details: { hadTwoFactor: true, revokedSessions: 1 } })]);
    await mailTo(user.email, "Two-factor sign-in is off");
  });
});
