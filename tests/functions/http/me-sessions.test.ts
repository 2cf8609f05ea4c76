import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, type RunningApp, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, login, signUp, type TestUser } from "../../support/identity.js";
import { expectProblem } from "../../support/problems.js";

let db: TestDatabase;
let app: RunningApp;
let ada: TestUser;
let bob: TestUser;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startApp({ env: { DATABASE_URL: db.url } });
  [ada, bob] = await Promise.all([signUp(app, db, { label: "ada" }), signUp(app, db, { label: "bob" })]);
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

interface Session {
  id: string;
  current: boolean;
  startedAt: string;
  lastUsedAt: string;
  expiresAt: string;
}
const sessionsOf = async (token: string) => {
  const res = await call(app, "GET", "/v1/me/sessions", { token });
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return ((await jsonOf(res)) as { items: Session[] }).items;
};
const signIn = async (user: TestUser) => (await (await login(app, user.email, user.password)).json()) as { accessToken: string; refreshToken: string };

describe("a user's sessions", () => {
  it("lists each sign-in as a session, marks the current one, and follows a refresh", async () => {
    const phone = await signIn(ada);
    const before = await sessionsOf(ada.accessToken);
    expect(before).toHaveLength(2);
    expect(before.filter((s) => s.current)).toHaveLength(1);
    const refreshed = await call(app, "POST", "/v1/auth/refresh", { body: { refreshToken: phone.refreshToken } });
    expect(refreshed.status).toBe(200);
    const after = await sessionsOf(ada.accessToken);
    // Still two sessions: a refresh continues its session, it does not start one.
    expect(after).toHaveLength(2);
    expect(after.map((s) => s.id).sort()).toEqual(before.map((s) => s.id).sort());
  });

  it("ends another session: its refresh and access tokens stop working, the current one goes on", async () => {
    const laptop = await signIn(ada);
    const other = (await sessionsOf(laptop.accessToken)).find((s) => s.current);
    expect(other).toBeDefined();
    const ended = await call(app, "DELETE", `/v1/me/sessions/${other?.id}`, { token: ada.accessToken });
    expect(ended.status).toBe(204);
    await expectProblem(await call(app, "POST", "/v1/auth/refresh", { body: { refreshToken: laptop.refreshToken } }), 401, "INVALID_REFRESH_TOKEN");
    expect((await call(app, "GET", "/v1/me", { token: laptop.accessToken })).status).toBe(401);
    expect((await call(app, "GET", "/v1/me", { token: ada.accessToken })).status).toBe(200);
    expect((await sessionsOf(ada.accessToken)).map((s) => s.id)).not.toContain(other?.id);
    const [audit] = await db.sql`select details from audit_log where action = 'auth.session-ended' and target_id = ${ada.id}`;
    expect(audit?.details).toEqual({ familyId: other?.id });
  });

  it("never ends, nor reveals, another user's session", async () => {
    const bobs = await sessionsOf(bob.accessToken);
    await expectProblem(await call(app, "DELETE", `/v1/me/sessions/${bobs[0]?.id}`, { token: ada.accessToken }), 404, "SESSION_NOT_FOUND");
    expect((await call(app, "GET", "/v1/me", { token: bob.accessToken })).status).toBe(200);
    await expectProblem(await call(app, "DELETE", `/v1/me/sessions/${crypto.randomUUID()}`, { token: ada.accessToken }), 404, "SESSION_NOT_FOUND");
    await expectProblem(await call(app, "DELETE", "/v1/me/sessions/not-a-uuid", { token: ada.accessToken }), 400, "VALIDATION_FAILED");
  });

  it("ends the current session when it names itself", async () => {
    const tablet = await signIn(bob);
    const mine = (await sessionsOf(tablet.accessToken)).find((s) => s.current);
    expect((await call(app, "DELETE", `/v1/me/sessions/${mine?.id}`, { token: tablet.accessToken })).status).toBe(204);
    expect((await call(app, "GET", "/v1/me/sessions", { token: tablet.accessToken })).status).toBe(401);
  });
});
