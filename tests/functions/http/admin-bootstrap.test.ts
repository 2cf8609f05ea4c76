import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOf, repoRoot, startApp } from "../../support/app.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";
import { call, login, signUp, strongPassword, uniqueEmail } from "../../support/identity.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const createAdmin = (args: string[], env: Record<string, string> = {}) =>
  promisify(execFile)(process.execPath, [join(repoRoot, "dist/functions/platform/commands/create-admin.js"), ...args], {
    env: { ...process.env, DATABASE_URL: db.url, AUTH_SCRYPT_LOG_N: "12", ...env },
  });

describe("the first admin", () => {
  it("is created by the admin:create command, never by an open endpoint", async () => {
    const email = uniqueEmail("cmd");
    const password = strongPassword();
    const { stdout } = await createAdmin(["--email", email, "--display-name", "Ops"], { ADMIN_PASSWORD: password });
    expect(stdout).toContain("is an admin");
    const app = await startApp({ env: { DATABASE_URL: db.url } });
    try {
      const tokens = (await jsonOf(await login(app, email, password))) as { accessToken: string };
      const me = await jsonOf(await call(app, "GET", "/v1/me", { token: tokens.accessToken }));
      expect(me.roles).toEqual(["admin"]);
      // The operator chose the address: confirmed, so AUTH_UNVERIFIED_ACCESS=none does not lock the first admin out.
      expect(me.emailVerified).toBe(true);
      // Registration cannot ask for roles.
      const res = await call(app, "POST", "/v1/auth/register", { body: { email: uniqueEmail(), password: strongPassword(), displayName: "x", roles: ["admin"] } });
      expect(res.status).toBe(400);
    } finally {
      await app.stop();
    }
    const [audit] = await db.sql`select details from audit_log where action = 'admin.bootstrapped'`;
    expect(audit?.details).toEqual({ created: true });
  });

  it("promotes an existing user and refuses bad input", async () => {
    const app = await startApp({ env: { DATABASE_URL: db.url } });
    try {
      const user = await signUp(app, db);
      await createAdmin(["--email", user.email]);
      expect((await jsonOf(await call(app, "GET", "/v1/me", { token: user.accessToken }))).roles).toEqual(["admin"]);
    } finally {
      await app.stop();
    }
    await expect(createAdmin(["--email", "not-an-email"])).rejects.toMatchObject({ code: 2 });
    await expect(createAdmin(["--email", uniqueEmail("nobody")])).rejects.toMatchObject({ code: 1 });
  });

  it("comes from the bootstrap settings at start when no admin exists", async () => {
    const fresh = await createTestDatabase();
    const email = uniqueEmail("boot");
    const password = strongPassword();
    const app = await startApp({ env: { DATABASE_URL: fresh.url, AUTH_BOOTSTRAP_ADMIN_EMAIL: email, AUTH_BOOTSTRAP_ADMIN_PASSWORD: password } });
    try {
      const tokens = (await jsonOf(await login(app, email, password))) as { accessToken: string };
      expect((await jsonOf(await call(app, "GET", "/v1/me", { token: tokens.accessToken }))).roles).toEqual(["admin"]);
    } finally {
      await app.stop();
      await fresh.drop();
    }
  });
});
