import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../../domain/identity/password-hash.js";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, login, signUp, strongPassword, uniqueEmail } from "../../support/identity.js";
import { expectProblem, expectValidationProblem } from "../../support/problems.js";

let db: TestDatabase;
let app: RunningApp;

beforeAll(async () => {
  db = await createTestDatabase();
  // No slowing in this file: the throttling tests below measure the lock itself.
  app = await startApp({ env: { DATABASE_URL: db.url, AUTH_LOGIN_SLOW_AFTER: "1000" } });
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

const register = (body: unknown) => call(app, "POST", "/v1/auth/register", { body });
const refresh = (refreshToken: string) => call(app, "POST", "/v1/auth/refresh", { body: { refreshToken } });
const audit = async (action: string, targetId: string) =>
  db.sql`select * from audit_log where action = ${action} and target_id = ${targetId} order by id`;

describe("registration", () => {
  it("creates a learner with a normalised email and never returns the hash", async () => {
    const email = uniqueEmail("Reg").toUpperCase();
    const res = await register({ email: `  ${email} `, password: strongPassword(), displayName: "Ada" });
    expect(res.status).toBe(201);
    const user = await jsonOf(res);
    expect(user).toMatchObject({ email: email.toLowerCase(), displayName: "Ada", roles: [], courseRoles: [] });
    expect(JSON.stringify(user)).not.toMatch(/scrypt|password/i);
    expect(res.headers.get("location")).toBe(`/api/v1/users/${user.id as string}`);
    const [row] = await db.sql`select password_hash from users where id = ${user.id as string}`;
    expect(row?.password_hash).toMatch(/^scrypt\$ln=12,r=8,p=1\$/);
    expect(await audit("user.registered", user.id as string)).toHaveLength(1);
    const [event] = await db.sql`select type, traceparent from outbox where aggregate_id = ${user.id as string}`;
    expect(event?.type).toBe("user.registered");
    expect(event?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("refuses a taken address, whatever its case, with EMAIL_TAKEN", async () => {
    const email = uniqueEmail("dup");
    expect((await register({ email, password: strongPassword(), displayName: "A" })).status).toBe(201);
    const again = await register({ email: email.toUpperCase(), password: strongPassword(), displayName: "B" });
    await expectProblem(again, 409, "EMAIL_TAKEN");
  });

  it("registers one account when the same address races", async () => {
    const email = uniqueEmail("race");
    const answers = await Promise.all([1, 2, 3].map(() => register({ email, password: strongPassword(), displayName: "R" })));
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409, 409]);
  });

  it("refuses short, common and malformed input with field paths", async () => {
    const cases: [unknown, string][] = [
      [{ email: uniqueEmail(), password: "short", displayName: "x" }, "body.password"],
      [{ email: uniqueEmail(), password: "qwerty123456", displayName: "x" }, "body.password"],
      [{ email: "not-an-email", password: strongPassword(), displayName: "x" }, "body.email"],
      [{ email: uniqueEmail(), password: strongPassword(), displayName: "" }, "body.displayName"],
      [{ email: uniqueEmail(), password: strongPassword(), displayName: "x", isAdmin: true }, "body.isAdmin"],
      [{ email: uniqueEmail(), password: "x".repeat(300), displayName: "x" }, "body.password"],
      // ASVS 2.1.2: 64 characters allowed, more than 128 refused.
      [{ email: uniqueEmail(), password: `${strongPassword()}${"y".repeat(110)}`, displayName: "x" }, "body.password"],
    ];
    for (const [body, path] of cases) {
      await expectValidationProblem(await register(body), path);
    }
    for (const length of [64, 128]) {
      const password = `${strongPassword()}${"z".repeat(200)}`.slice(0, length);
      expect((await register({ email: uniqueEmail(), password, displayName: "Long" })).status).toBe(201);
    }
  });
});

describe("sign-in and tokens", () => {
  it("returns a bearer access token and a refresh token", async () => {
    const user = await signUp(app, db);
    const me = await call(app, "GET", "/v1/me", { token: user.accessToken });
    expect(me.status).toBe(200);
    expect((await jsonOf(me)).id).toBe(user.id);
  });

  it("answers a wrong password and an unknown account alike", async () => {
    const user = await signUp(app, db);
    const wrong = await login(app, user.email, "Wrong-password-123");
    const unknown = await login(app, uniqueEmail("ghost"), "Wrong-password-123");
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    const [a, b] = [await jsonOf(wrong), await jsonOf(unknown)];
    expect(a.code).toBe("INVALID_CREDENTIALS");
    expect({ ...a, requestId: 0 }).toEqual({ ...b, requestId: 0 });
    expect(await audit("auth.login-failed", user.id)).toHaveLength(1);
  });

  it("rotates the refresh token on every use", async () => {
    const user = await signUp(app, db);
    const first = await refresh(user.refreshToken);
    expect(first.status).toBe(200);
    const next = (await jsonOf(first)) as { refreshToken: string; accessToken: string };
    expect(next.refreshToken).not.toBe(user.refreshToken);
    expect((await call(app, "GET", "/v1/me", { token: next.accessToken })).status).toBe(200);
    expect((await refresh(next.refreshToken)).status).toBe(200);
  });

  it("ends the whole family when a rotated token is presented again, and audits it", async () => {
    const user = await signUp(app, db);
    const rotated = (await jsonOf(await refresh(user.refreshToken))) as { refreshToken: string };
    const reuse = await refresh(user.refreshToken);
    await expectProblem(reuse, 401, "REFRESH_TOKEN_REUSED");
    // The thief's (or the victim's) newer token is dead too.
    const after = await refresh(rotated.refreshToken);
    await expectProblem(after, 401, "INVALID_REFRESH_TOKEN");
    expect(await audit("auth.refresh-family-revoked", user.id)).toHaveLength(1);
  });

  it("lets only one of two concurrent uses of a refresh token rotate it", async () => {
    const user = await signUp(app, db);
    const answers = await Promise.all([refresh(user.refreshToken), refresh(user.refreshToken)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it("stores refresh tokens only as hashes", async () => {
    const user = await signUp(app, db);
    const rows = await db.sql`select token_hash from refresh_tokens where user_id = ${user.id}`;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.token_hash)).not.toContain(user.refreshToken);
  });

  it("logs out: the refresh token stops working, unknown tokens still get 204", async () => {
    const user = await signUp(app, db);
    expect((await call(app, "POST", "/v1/auth/logout", { body: { refreshToken: user.refreshToken } })).status).toBe(204);
    expect((await refresh(user.refreshToken)).status).toBe(401);
    expect((await call(app, "GET", "/v1/me", { token: user.accessToken })).status).toBe(401);
    expect((await call(app, "POST", "/v1/auth/logout", { body: { refreshToken: "nonsense" } })).status).toBe(204);
  });

  it("ends a session at its maximum age however often it was refreshed, and caps a new token's expiry at it", async () => {
    const user = await signUp(app, db);
    const sessionOf = async (refreshToken: string) => {
      const [row] = await db.sql<{ family_id: string }[]>`select family_id from refresh_tokens where user_id = ${user.id} and revoked_at is null and rotated_at is null`;
      expect(row).toBeDefined();
      return { familyId: row?.family_id as string, refreshToken };
    };
    // Signed in 719.5 hours ago (the default maximum is 720): a refresh still works, for the half hour left.
    const session = await sessionOf(user.refreshToken);
    await db.sql`update refresh_tokens set created_at = created_at - interval '719.5 hours' where family_id = ${session.familyId}`;
    const refreshed = await refresh(user.refreshToken);
    expect(refreshed.status).toBe(200);
    const tokens = (await jsonOf(refreshed)) as { refreshToken: string; accessToken: string; refreshTokenExpiresAt: string };
    const left = new Date(tokens.refreshTokenExpiresAt).getTime() - Date.now();
    expect(left).toBeGreaterThan(25 * 60_000);
    expect(left).toBeLessThanOrEqual(30 * 60_000);
    // Past the maximum age: refused, and the session's access tokens with it.
    await db.sql`update refresh_tokens set created_at = created_at - interval '1 hour' where family_id = ${session.familyId}`;
    const late = await expectProblem(await refresh(tokens.refreshToken), 401, "INVALID_REFRESH_TOKEN");
    expect(late.detail).toMatch(/maximum age/);
    expect((await call(app, "GET", "/v1/me", { token: tokens.accessToken })).status).toBe(401);
    expect((await login(app, user.email, user.password)).status).toBe(200);
  });

  it("refuses a session's access tokens once its refresh tokens have all expired, refreshed or not", async () => {
    const user = await signUp(app, db);
    expect((await call(app, "GET", "/v1/me", { token: user.accessToken })).status).toBe(200);
    await db.sql`update refresh_tokens set expires_at = now() - interval '1 second' where user_id = ${user.id}`;
    expect((await call(app, "GET", "/v1/me", { token: user.accessToken })).status).toBe(401);
  });

  it("ends other sessions when the password changes, keeping the current one", async () => {
    const user = await signUp(app, db);
    const other = (await jsonOf(await login(app, user.email, user.password))) as { refreshToken: string; accessToken: string };
    const newPassword = strongPassword();
    const wrong = await call(app, "POST", "/v1/me/password", {
      token: user.accessToken,
      body: { currentPassword: "not-my-password-1", newPassword },
    });
    await expectProblem(wrong, 403, "CURRENT_PASSWORD_INCORRECT");
    const changed = await call(app, "POST", "/v1/me/password", { token: user.accessToken, body: { currentPassword: user.password, newPassword } });
    expect(changed.status).toBe(204);
    expect((await refresh(other.refreshToken)).status).toBe(401);
    // The other session's access token stops working at once too.
    expect((await call(app, "GET", "/v1/me", { token: other.accessToken })).status).toBe(401);
    expect((await call(app, "GET", "/v1/me", { token: user.accessToken })).status).toBe(200);
    expect((await refresh(user.refreshToken)).status).toBe(200);
    expect((await login(app, user.email, user.password)).status).toBe(401);
    expect((await login(app, user.email, newPassword)).status).toBe(200);
  });

  it("re-hashes a password at sign-in when the cost was raised", async () => {
    const user = await signUp(app, db);
    // A hash made at an older, cheaper cost (the app's own hashing at ln=10, what it stored while its setting said 10;
    // registration above shows the setting reaching the hash): stored parameters are below the current 12.
    const email = uniqueEmail("old");
    const password = strongPassword();
    expect((await register({ email, password, displayName: "Old" })).status).toBe(201);
    await db.sql`update users set password_hash = ${await hashPassword(password, { logN: 10, r: 8, p: 1 })} where email = ${email}`;
    const [before] = await db.sql`select password_hash from users where email = ${email}`;
    expect(before?.password_hash).toMatch(/^scrypt\$ln=10,/);
    expect((await login(app, email, password)).status).toBe(200);
    const [after] = await db.sql`select password_hash from users where email = ${email}`;
    expect(after?.password_hash).toMatch(/^scrypt\$ln=12,/);
    expect(user.id).toBeDefined();
  });
});

describe("login throttling", () => {
  it("locks an account after repeated failures and answers 429 with Retry-After, even for the right password", async () => {
    const user = await signUp(app, db);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await login(app, user.email, `Wrong-password-${i}00`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const locked = await login(app, user.email, user.password);
    await expectProblem(locked, 429, "LOGIN_THROTTLED");
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await audit("auth.login-locked", user.id)).toHaveLength(1);
  });

  it("locks a client address that fails across many accounts, by the address the trusted proxy appended", async () => {
    // Two trusted hops: a proxy of ours that appends 198.51.100.x, then the front end (here the local runtime,
    // which appends the socket address as Azure's does). The entry the client wrote first rotates freely.
    const proxied = await startApp({ env: { DATABASE_URL: db.url, AUTH_LOGIN_SLOW_AFTER: "1000", TRUSTED_PROXY_HOPS: "2" } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) {
        const headers = { "x-forwarded-for": `203.0.113.${i}, 198.51.100.77` };
        statuses.push((await login(proxied, uniqueEmail(`spray${i}`), "Wrong-password-000", headers)).status);
      }
      expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
      expect(statuses[20]).toBe(429);
      // Another address is not affected.
      const user = await signUp(proxied, db);
      expect((await login(proxied, user.email, user.password, { "x-forwarded-for": "203.0.113.1, 198.51.100.78" })).status).toBe(200);
    } finally {
      await proxied.stop();
    }
  });

  it("slows failed answers once failures pile up", async () => {
    const slow = await startApp({ env: { DATABASE_URL: db.url, AUTH_LOGIN_SLOW_AFTER: "2" } });
    try {
      const user = await signUp(slow, db);
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        await login(slow, user.email, `Wrong-password-${i}99`);
        times.push(performance.now() - started);
      }
      // The third failure is past slowAfter=2: one second of added delay (a lower bound, whatever the load).
      expect(times[2] as number).toBeGreaterThanOrEqual(1000);
    } finally {
      await slow.stop();
    }
  });
});

describe("admins", () => {
  it("revokes every session of a user", async () => {
    const admin = await signUp(app, db, { admin: true });
    const user = await signUp(app, db);
    const res = await call(app, "POST", `/v1/users/${user.id}/sessions/revoke`, { token: admin.accessToken });
    expect(res.status).toBe(200);
    expect((await jsonOf(res)).revokedSessions).toBe(1);
    expect((await refresh(user.refreshToken)).status).toBe(401);
    expect(await audit("user.sessions-revoked", user.id)).toHaveLength(1);
  });

  it("set global roles, audited, and never remove the last admin", async () => {
    const only = await createIsolatedAdmins();
    const [first, second] = only;
    const promote = await call(app, "PUT", `/v1/users/${second.id}/roles`, { token: first.accessToken, body: { roles: ["admin"] } });
    expect(promote.status).toBe(200);
    expect((await jsonOf(promote)).roles).toEqual(["admin"]);
    expect(await audit("user.roles-changed", second.id)).toHaveLength(1);
    // Now two admins: one may step down, the other may not.
    expect((await call(app, "PUT", `/v1/users/${first.id}/roles`, { token: first.accessToken, body: { roles: [] } })).status).toBe(200);
    const last = await call(app, "PUT", `/v1/users/${second.id}/roles`, { token: second.accessToken, body: { roles: [] } });
    await expectProblem(last, 409, "LAST_ADMIN");
  });

  it("list users with filters and cursor pagination", async () => {
    const admin = await signUp(app, db, { admin: true });
    const tag = `pg${Date.now()}`;
    for (let i = 0; i < 5; i++) await signUp(app, db, { label: `${tag}-${i}` });
    const seen: string[] = [];
    let path: string | null = `/v1/users?email=${tag}&limit=2`;
    while (path) {
      const res: Response = await call(app, "GET", path, { token: admin.accessToken });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: { email: string }[]; nextCursor: string | null };
      seen.push(...page.items.map((u) => u.email));
      path = page.nextCursor ? `/v1/users?email=${tag}&limit=2&cursor=${page.nextCursor}` : null;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    const admins = (await jsonOf(await call(app, "GET", "/v1/users?role=admin&limit=100", { token: admin.accessToken }))) as { items: { id: string }[] };
    expect(admins.items.map((u) => u.id)).toContain(admin.id);
  });

  it("list the audit log with filters", async () => {
    const admin = await signUp(app, db, { admin: true });
    const user = await signUp(app, db);
    await login(app, user.email, "Wrong-password-xyz");
    const res = await call(app, "GET", `/v1/audit-log?action=auth.login-failed&targetId=${user.id}`, { token: admin.accessToken });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: { action: string; targetId: string; requestId: string; clientIp: string | null }[] };
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ action: "auth.login-failed", targetId: user.id, requestId: expect.any(String) });
    expect((await call(app, "GET", "/v1/audit-log?action=nope", { token: admin.accessToken })).status).toBe(400);
  });
});

/** Two fresh admins in a database where they are the only admins, so LAST_ADMIN can be observed. */
async function createIsolatedAdmins() {
  await db.sql`update users set is_admin = false`;
  const first = await signUp(app, db, { admin: true });
  const second = await signUp(app, db);
  return [first, second] as const;
}

describe("when the database cannot be reached", () => {
  it("refuses to refresh (fails closed with 503) rather than issue a token", async () => {
    const { freePort } = await import("@ringlet/local-runtime/ports");
    const dead = await startApp({ env: { DATABASE_URL: `postgres://postgres:password@127.0.0.1:${await freePort()}/nowhere` } });
    try {
      const res = await call(dead, "POST", "/v1/auth/refresh", { body: { refreshToken: "any-token-at-all" } });
      await expectProblem(res, 503, "AUTH_UNAVAILABLE");
      expect(res.headers.get("retry-after")).toBe("5");
    } finally {
      await dead.stop();
    }
  });
});
