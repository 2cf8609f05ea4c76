import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, login, signUp, strongPassword, type TestUser, uniqueEmail } from "../../support/identity.js";
import { mailsTo, waitForMail } from "../../support/mailbox.js";
import { expectProblem } from "../../support/problems.js";
import { recentErrors, waitFor } from "../../support/wait-for.js";

// Email verification, password reset and account invitations over HTTP, with the links read from the mails the
// app sent to the development mailbox. The unverified-access policy is the default, `browse`.

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let courseId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({
    env: {
      DATABASE_URL: db.url,
      PUBLIC_APP_URL: "https://app.ringlet.test",
      AUTH_LOGIN_SLOW_AFTER: "1000",
      AUTH_PASSWORD_RESET_MAX_PER_ACCOUNT: "2",
      AUTH_PASSWORD_RESET_MAX_PER_ADDRESS: "6",
      // The runtime appends the socket address as Azure's front end does; the entry before it is the client's.
      TRUSTED_PROXY_HOPS: "2",
    },
  });
  admin = await signUp(app, db, { admin: true, label: "admin" });
  const created = await call(app, "POST", "/v1/courses", { token: admin.accessToken, body: { title: "Verified 101", selfEnrollment: true } });
  courseId = ((await created.json()) as { id: string }).id;
  expect((await call(app, "POST", `/v1/courses/${courseId}/publish`, { token: admin.accessToken })).status).toBe(200);
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(what, probe, { timeoutMs: 20_000, diagnostics: () => recentErrors(app) });
const tokenIn = (text: string, path: string): string => {
  const m = new RegExp(`https://app\\.ringlet\\.test/${path}\\?token=([A-Za-z0-9_-]+)`).exec(text);
  if (!m?.[1]) throw new Error(`no ${path} link in: ${text}`);
  return m[1];
};
/** The link of the `nth` (1-based) mail to `address` whose subject starts so, once it has arrived. */
const linkFrom = async (address: string, subjectStart: string, path: string, nth = 1) => tokenIn((await waitForMail(app, address, subjectStart, { nth })).text, path);
const me = async (token: string) => (await (await call(app, "GET", "/v1/me", { token })).json()) as { emailVerified: boolean; displayName: string; email: string };
const auditActions = async (targetId: string) => (await db.sql<{ action: string }[]>`select action from audit_log where target_id = ${targetId} order by occurred_at`).map((r) => r.action);
const enroll = (token: string) => call(app, "POST", `/v1/courses/${courseId}/enrollments`, { token });
// Each request from its own client address unless a test says otherwise, so the per-address throttle stays out of the way.
let nextIp = 1;
const freshIp = () => ({ "x-forwarded-for": `198.51.100.${nextIp++}` });
const askReset = (email: string, headers: Record<string, string> = freshIp()) => call(app, "POST", "/v1/auth/password-reset", { body: { email }, headers });

describe("email verification", () => {
  it("emails a single-use link at registration; an unverified learner browses but cannot enroll or accept a course invitation until it is followed", async () => {
    const user = await signUp(app, db, { unverified: true, label: "vera" });
    expect((await me(user.accessToken)).emailVerified).toBe(false);
    const token = await linkFrom(user.email, "Confirm your email address", "verify-email");
    // The token is stored only as its hash.
    expect(await db.sql`select 1 from account_tokens where token_hash = ${token}`).toHaveLength(0);
    // The welcome email still goes out on the event.
    await waitForMail(app, user.email, "Welcome to Ringlet");

    expect((await call(app, "GET", `/v1/courses/${courseId}`, { token: user.accessToken })).status).toBe(200);
    const refused = await expectProblem(await enroll(user.accessToken), 403, "EMAIL_NOT_VERIFIED");
    expect(refused.detail).toMatch(/verify-email\/resend/);
    expect(await db.sql`select 1 from enrollments where user_id = ${user.id}`).toHaveLength(0);

    const invited = await call(app, "POST", `/v1/courses/${courseId}/invitations`, { token: admin.accessToken, body: { email: user.email }, headers: { "idempotency-key": crypto.randomUUID() } });
    expect(invited.status).toBe(201);
    const courseInvitation = /token=([A-Za-z0-9_-]+)/.exec((await waitForMail(app, user.email, "You are invited to Verified 101")).text)?.[1];
    expect(courseInvitation).toBeDefined();
    await expectProblem(await call(app, "POST", "/v1/invitations/accept", { token: user.accessToken, body: { token: courseInvitation } }), 403, "EMAIL_NOT_VERIFIED");

    expect((await call(app, "POST", "/v1/auth/verify-email", { body: { token } })).status).toBe(204);
    expect((await me(user.accessToken)).emailVerified).toBe(true);
    await expectProblem(await call(app, "POST", "/v1/auth/verify-email", { body: { token } }), 400, "TOKEN_USED");
    expect(await auditActions(user.id)).toContain("user.email-verified");
    expect((await call(app, "POST", "/v1/invitations/accept", { token: user.accessToken, body: { token: courseInvitation } })).status).toBe(201);
    await expectProblem(await call(app, "POST", "/v1/auth/verify-email/resend", { token: user.accessToken }), 409, "EMAIL_ALREADY_VERIFIED");
  });

  it("throttles resending, and a new link supersedes the older ones", async () => {
    const user = await signUp(app, db, { unverified: true });
    const first = await linkFrom(user.email, "Confirm your email address", "verify-email");
    const soon = await expectProblem(await call(app, "POST", "/v1/auth/verify-email/resend", { token: user.accessToken }), 429, "VERIFICATION_THROTTLED");
    expect(Number(soon.retryAfterSeconds)).toBeGreaterThan(0);
    await expectProblem(await call(app, "POST", "/v1/auth/verify-email/resend"), 401, "UNAUTHENTICATED");

    // A minute later (moved back in the database) a resend goes out.
    await db.sql`update account_tokens set created_at = created_at - interval '2 minutes' where user_id = ${user.id}`;
    const resent = await call(app, "POST", "/v1/auth/verify-email/resend", { token: user.accessToken });
    expect(resent.status).toBe(202);
    const second = await linkFrom(user.email, "Confirm your email address", "verify-email", 2);
    expect(second).not.toBe(first);
    await expectProblem(await call(app, "POST", "/v1/auth/verify-email", { body: { token: first } }), 400, "TOKEN_INVALID");
    expect((await me(user.accessToken)).emailVerified).toBe(false);

    // Five a day, counting the one sent at registration.
    await db.sql`insert into account_tokens (id, purpose, token_hash, user_id, email, created_at, expires_at, superseded_at)
      select gen_random_uuid(), 'verify-email', md5(random()::text), ${user.id}, ${user.email}, now() - interval '1 hour', now(), now() from generate_series(1, 3)`;
    await db.sql`update account_tokens set created_at = created_at - interval '2 minutes' where user_id = ${user.id}`;
    const daily = await call(app, "POST", "/v1/auth/verify-email/resend", { token: user.accessToken });
    await expectProblem(daily, 429, "VERIFICATION_THROTTLED");
    expect(Number(daily.headers.get("retry-after"))).toBeGreaterThan(3_600);

    expect((await call(app, "POST", "/v1/auth/verify-email", { body: { token: second } })).status).toBe(204);
  });

  it("refuses forged, expired and malformed tokens with a clear 400", async () => {
    const user = await signUp(app, db, { unverified: true });
    const token = await linkFrom(user.email, "Confirm your email address", "verify-email");
    await expectProblem(await call(app, "POST", "/v1/auth/verify-email", { body: { token: `${token.slice(0, -2)}xx` } }), 400, "TOKEN_INVALID");
    await expectProblem(await call(app, "POST", "/v1/auth/verify-email", { body: { token: "x".repeat(5_000) } }), 400, "VALIDATION_FAILED");
    await expectProblem(await call(app, "POST", "/v1/auth/verify-email", { body: { token: "abc\u0000def" } }), 400, "VALIDATION_FAILED");
    await db.sql`update account_tokens set expires_at = now() - interval '1 second' where user_id = ${user.id}`;
    await expectProblem(await call(app, "POST", "/v1/auth/verify-email", { body: { token } }), 400, "TOKEN_EXPIRED");
    expect((await me(user.accessToken)).emailVerified).toBe(false);
  });
});

describe("password reset", () => {
  it("answers the same for a known and an unknown address, emails only the known one, and the link replaces the password and ends every session", async () => {
    const user = await signUp(app, db, { unverified: true, label: "rita" });
    const unknown = uniqueEmail("nobody");
    const [known, stranger] = [await askReset(user.email), await askReset(unknown)];
    expect(known.status).toBe(202);
    expect(stranger.status).toBe(202);
    expect(await known.json()).toEqual(await stranger.json());
    const token = await linkFrom(user.email, "Reset your Ringlet password", "reset-password");
    expect(await mailsTo(app, unknown)).toHaveLength(0);
    // Whatever was typed for an address no account has is not kept in the audit log.
    const kept = await db.sql`select id from audit_log where action = 'user.password-reset-requested' and (target_id = ${unknown} or details::text like ${`%${unknown}%`})`;
    expect(kept).toHaveLength(0);
    expect(await db.sql`select id from audit_log where action = 'user.password-reset-requested' and target_id is null and details->>'emailed' = 'false'`).not.toHaveLength(0);

    // A password the policy refuses changes nothing and leaves the link working.
    await expectProblem(await call(app, "POST", "/v1/auth/password-reset/confirm", { body: { token, newPassword: "password1234" } }), 400, "VALIDATION_FAILED");
    const newPassword = strongPassword();
    expect((await call(app, "POST", "/v1/auth/password-reset/confirm", { body: { token, newPassword } })).status).toBe(204);

    expect((await login(app, user.email, user.password)).status).toBe(401);
    expect((await login(app, user.email, newPassword)).status).toBe(200);
    await expectProblem(await call(app, "POST", "/v1/auth/refresh", { body: { refreshToken: user.refreshToken } }), 401, "INVALID_REFRESH_TOKEN");
    await expectProblem(await call(app, "GET", "/v1/me", { token: user.accessToken }), 401, "UNAUTHENTICATED");
    // The link reached the address: it counts as confirmed.
    expect((await db.sql<{ verified: boolean }[]>`select email_verified_at is not null as verified from users where id = ${user.id}`)[0]?.verified).toBe(true);
    expect(await auditActions(user.id)).toEqual(expect.arrayContaining(["user.password-reset-requested", "user.password-reset"]));
    const changed = await waitForMail(app, user.email, "Your Ringlet password was changed");
    expect(changed.text).not.toMatch(/token=/);
    await expectProblem(await call(app, "POST", "/v1/auth/password-reset/confirm", { body: { token, newPassword: strongPassword() } }), 400, "TOKEN_USED");
    // Sent rows keep no body: the link is gone from the database.
    await until("the reset email's body cleared", async () =>
      (await db.sql`select 1 from email_deliveries where recipient = ${user.email} and template = 'password-reset' and status = 'sent' and text is null`).length > 0 ? true : undefined,
    );
  });

  it("lets exactly one of two racing confirmations with one token win", async () => {
    const user = await signUp(app, db);
    expect((await askReset(user.email)).status).toBe(202);
    const token = await linkFrom(user.email, "Reset your Ringlet password", "reset-password");
    const [a, b] = [strongPassword(), strongPassword()];
    const answers = await Promise.all([a, b].map((newPassword) => call(app, "POST", "/v1/auth/password-reset/confirm", { body: { token, newPassword } })));
    expect(answers.map((r) => r.status).sort()).toEqual([204, 400]);
    const loser = answers.find((r) => r.status === 400) as Response;
    await expectProblem(loser, 400, "TOKEN_USED");
    const winner = answers[0]?.status === 204 ? a : b;
    expect((await login(app, user.email, winner)).status).toBe(200);
  });

  it("supersedes older links, sends nothing past the per-account limit, and refuses a client past its limit with 429", async () => {
    const user = await signUp(app, db);
    expect((await askReset(user.email)).status).toBe(202);
    expect((await askReset(user.email)).status).toBe(202);
    const older = await linkFrom(user.email, "Reset your Ringlet password", "reset-password", 1);
    const newer = await linkFrom(user.email, "Reset your Ringlet password", "reset-password", 2);
    await expectProblem(await call(app, "POST", "/v1/auth/password-reset/confirm", { body: { token: older, newPassword: strongPassword() } }), 400, "TOKEN_INVALID");
    // The third within the hour: the same answer, no email, no new link.
    expect((await askReset(user.email)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await mailsTo(app, user.email, "Reset your Ringlet password")).toHaveLength(2);
    expect((await call(app, "POST", "/v1/auth/password-reset/confirm", { body: { token: newer, newPassword: strongPassword() } })).status).toBe(204);

    const client = freshIp();
    for (let i = 0; i < 6; i++) expect((await askReset(uniqueEmail(), client)).status).toBe(202);
    const limited = await askReset(uniqueEmail(), client);
    await expectProblem(limited, 429, "PASSWORD_RESET_THROTTLED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("gives a deactivated account no link and refuses to confirm one it had; an expired or forged token changes nothing", async () => {
    const user = await signUp(app, db);
    expect((await askReset(user.email)).status).toBe(202);
    const token = await linkFrom(user.email, "Reset your Ringlet password", "reset-password");
    const [before] = await db.sql<{ password_hash: string }[]>`select password_hash from users where id = ${user.id}`;
    await db.sql`update users set disabled_at = now() where id = ${user.id}`;
    await expectProblem(await call(app, "POST", "/v1/auth/password-reset/confirm", { body: { token, newPassword: strongPassword() } }), 403, "ACCOUNT_DISABLED");
    expect((await askReset(user.email)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await mailsTo(app, user.email, "Reset your Ringlet password")).toHaveLength(1);
    await db.sql`update users set disabled_at = null where id = ${user.id}`;

    await expectProblem(await call(app, "POST", "/v1/auth/password-reset/confirm", { body: { token: "forged-token-forged-token-forged-token-abcd", newPassword: strongPassword() } }), 400, "TOKEN_INVALID");
    // An hour later (the address's count cleared) a new link is sent.
    await db.sql`delete from login_throttles where key = ${`reset-account:${user.email}`}`;
    expect((await askReset(user.email)).status).toBe(202);
    const latest = await linkFrom(user.email, "Reset your Ringlet password", "reset-password", 2);
    await db.sql`update account_tokens set expires_at = now() - interval '1 second' where email = ${user.email} and purpose = 'password-reset'`;
    await expectProblem(await call(app, "POST", "/v1/auth/password-reset/confirm", { body: { token: latest, newPassword: strongPassword() } }), 400, "TOKEN_EXPIRED");
    const [after] = await db.sql<{ password_hash: string }[]>`select password_hash from users where id = ${user.id}`;
    expect(after?.password_hash).toBe(before?.password_hash);
    expect((await login(app, user.email, user.password)).status).toBe(200);
  });

  it("gives an account that signs in only through an identity provider no link (still 202)", async () => {
    const id = crypto.randomUUID();
    const email = uniqueEmail("external-only");
    await db.sql`insert into users (id, email, display_name, email_verified_at) values (${id}, ${email}, 'External', now())`;
    await db.sql`insert into external_identities (issuer, subject, user_id) values ('https://idp.example', ${id}, ${id})`;
    expect((await askReset(email)).status).toBe(202);
    // Recorded in the request's transaction, so none is there once it answered.
    expect(await db.sql`select id from email_deliveries where recipient = ${email}`).toHaveLength(0);
    expect(await db.sql`select id from account_tokens where email = ${email} and user_id is not null`).toHaveLength(0);
  });

  it("emails the owner when the password is changed while signed in", async () => {
    const user = await signUp(app, db);
    const res = await call(app, "POST", "/v1/me/password", { token: user.accessToken, body: { currentPassword: user.password, newPassword: strongPassword() } });
    expect(res.status).toBe(204);
    await waitForMail(app, user.email, "Your Ringlet password was changed");
  });
});

describe("account invitations", () => {
  const invite = (email: string, displayName?: string) => call(app, "POST", "/v1/users/invitations", { token: admin.accessToken, body: { email, ...(displayName ? { displayName } : {}) } });
  const accept = (token: string, password = strongPassword(), displayName?: string) =>
    call(app, "POST", "/v1/auth/invitations/accept", { body: { token, password, ...(displayName ? { displayName } : {}) } });

  it("invites an address by email; the link creates the account, confirmed, signs it in, and works once", async () => {
    const email = uniqueEmail("invitee");
    const first = await invite(email, "Ines");
    expect(first.status).toBe(201);
    const older = await linkFrom(email, "You are invited to Ringlet", "accept-invitation");
    // Inviting again replaces the pending invitation.
    const again = await invite(email, "Ines");
    expect(again.status).toBe(201);
    const { id } = (await again.json()) as { id: string };
    const token = await linkFrom(email, "You are invited to Ringlet", "accept-invitation", 2);
    const pending = (await (await call(app, "GET", "/v1/users/invitations?limit=100", { token: admin.accessToken })).json()) as { items: { id: string; email: string }[] };
    expect(pending.items.filter((i) => i.email === email).map((i) => i.id)).toEqual([id]);
    await expectProblem(await accept(older), 400, "TOKEN_INVALID");

    const password = strongPassword();
    const accepted = await accept(token, password);
    expect(accepted.status).toBe(201);
    const tokens = (await accepted.json()) as { accessToken: string; refreshToken: string; tokenType: string };
    expect(tokens.tokenType).toBe("Bearer");
    expect(await me(tokens.accessToken)).toMatchObject({ email, displayName: "Ines", emailVerified: true });
    expect((await enroll(tokens.accessToken)).status).toBe(201);
    expect((await login(app, email, password)).status).toBe(200);
    await expectProblem(await accept(token), 400, "TOKEN_USED");
    await expectProblem(await invite(email), 409, "EMAIL_TAKEN");
    const audit = await db.sql<{ action: string }[]>`select action from audit_log where action in ('user.invited', 'user.invitation-accepted') and (details->>'email' = ${email} or target_id = ${accepted.headers.get("location")?.split("/").pop() ?? ""})`;
    expect(audit.map((a) => a.action).sort()).toEqual(["user.invitation-accepted", "user.invited", "user.invited"]);
    const after = (await (await call(app, "GET", "/v1/users/invitations?limit=100", { token: admin.accessToken })).json()) as { items: { email: string }[] };
    expect(after.items.filter((i) => i.email === email)).toEqual([]);
  });

  it("withdraws an invitation, refuses an address that registered meanwhile, and refuses non-admins", async () => {
    const email = uniqueEmail("withdrawn");
    const { id } = (await (await invite(email)).json()) as { id: string };
    const token = await linkFrom(email, "You are invited to Ringlet", "accept-invitation");
    expect((await call(app, "DELETE", `/v1/users/invitations/${id}`, { token: admin.accessToken })).status).toBe(204);
    await expectProblem(await call(app, "DELETE", `/v1/users/invitations/${id}`, { token: admin.accessToken }), 404, "ACCOUNT_INVITATION_NOT_FOUND");
    await expectProblem(await accept(token), 400, "TOKEN_INVALID");

    const raced = uniqueEmail("raced");
    expect((await invite(raced)).status).toBe(201);
    const racedToken = await linkFrom(raced, "You are invited to Ringlet", "accept-invitation");
    expect((await call(app, "POST", "/v1/auth/register", { body: { email: raced, password: strongPassword(), displayName: "Early" } })).status).toBe(201);
    await expectProblem(await accept(racedToken), 409, "EMAIL_TAKEN");
    // Nothing was used up: the invitation is still pending.
    expect(await db.sql`select 1 from account_tokens where email = ${raced} and purpose = 'account-invitation' and used_at is null and superseded_at is null`).toHaveLength(1);

    const learner = await signUp(app, db);
    await expectProblem(await call(app, "POST", "/v1/users/invitations", { token: learner.accessToken, body: { email: uniqueEmail() } }), 403, "FORBIDDEN");
    await expectProblem(await accept("not-a-real-invitation-token"), 400, "TOKEN_INVALID");
  });
});

describe("AUTH_UNVERIFIED_ACCESS=none", () => {
  it("refuses sign-in until the address is confirmed", async () => {
    const unverified = await signUp(app, db, { unverified: true });
    const verified = await signUp(app, db);
    const strict = await startApp({ env: { DATABASE_URL: db.url, AUTH_UNVERIFIED_ACCESS: "none", AUTH_LOGIN_SLOW_AFTER: "1000" } });
    try {
      const refused = await expectProblem(await login(strict, unverified.email, unverified.password), 403, "EMAIL_NOT_VERIFIED");
      expect(refused.detail).toMatch(/password-reset/);
      // A wrong password still says only that.
      expect((await login(strict, unverified.email, "wrong-password-0000")).status).toBe(401);
      expect((await login(strict, verified.email, verified.password)).status).toBe(200);
    } finally {
      await strict.stop();
    }
  });
});
