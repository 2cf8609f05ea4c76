import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import type { TestDatabase } from "../support/database.js";
import { call, login, signUp, strongPassword, type TestUser, uniqueEmail } from "../support/identity.js";
import { requestImport, runImport as runAnImport } from "../support/imports.js";
import { waitForMail } from "../support/mailbox.js";

// A users file through the whole pipeline over HTTP and the bus: a dry run that writes nothing, then the real run;
// a person it created reads the invitation in the development mailbox, accepts it, and signs in with the password
// they chose (the account the import made, not a second one).

let db: TestDatabase;
let app: RunningApp;
let admin: TestUser;
let existing: TestUser;

beforeAll(async () => {
  ({ db, app } = await startAppOnOwnDatabase());
  admin = await signUp(app, db, { admin: true, label: "admin" });
  existing = await signUp(app, db, { label: "existing" });
});

afterAll(async () => {
  await stopAppAndDatabase({ db, app });
});

async function uploadCsv(csv: string): Promise<string> {
  const bytes = Buffer.from(csv, "utf8");
  const created = await requestImport(app, admin.accessToken, { fileName: "people.csv", contentType: "text/csv", sizeBytes: bytes.length });
  const put = await fetch(created.upload.url, { method: "PUT", headers: created.upload.headers, body: bytes });
  expect(put.status).toBe(201);
  return created.id;
}

const runImport = (id: string, dryRun: boolean) => runAnImport(app, admin.accessToken, id, "users", dryRun, { what: `import ${id} (dry run: ${dryRun}) to end` });

const userCount = async () => (await db.sql<{ n: number }[]>`select count(*)::int as n from users`)[0]?.n;

describe("importing users", () => {
  it("previews, then creates, updates and invites; the invited person accepts over HTTP and signs in", async () => {
    const newcomer = uniqueEmail("newcomer");
    const second = uniqueEmail("second");
    const csv = [
      "email,name,locale",
      `${newcomer.toUpperCase()},Nueva Persona,es`,
      `${second},Second Person,`,
      `${existing.email},Renamed By Import,`,
      "not-an-address,Somebody,",
      `${uniqueEmail("nameless")},,`,
    ].join("\r\n");
    const id = await uploadCsv(csv);

    const before = await userCount();
    const preview = await runImport(id, true);
    expect(preview).toMatchObject({ status: "completed", rowsRead: 5, rowsFailed: 2 });
    expect(preview.counts.user).toMatchObject({ created: 2, updated: 1, unchanged: 0 });
    expect(await userCount()).toBe(before);
    expect(await db.sql`select 1 from account_tokens where email = ${newcomer}`).toHaveLength(0);

    const applied = await runImport(id, false);
    expect(applied).toMatchObject({ status: "completed", rowsRead: 5, rowsApplied: 3, rowsFailed: 2 });
    expect(applied.counts.user).toMatchObject({ created: 2, updated: 1, failed: 2 });
    const [created] = await db.sql<{ id: string; password_hash: string | null; email_verified_at: string | null; locale: string }[]>`
      select id, password_hash, email_verified_at, locale from users where email = ${newcomer}`;
    expect(created).toMatchObject({ password_hash: null, email_verified_at: null, locale: "es" });
    expect(await db.sql`select display_name from users where id = ${existing.id}`).toEqual([{ display_name: "Renamed By Import" }]);

    const report = await call(app, "GET", `/v1/imports/${id}/report.csv`, { token: admin.accessToken });
    expect(report.status).toBe(200);
    const reportText = await report.text();
    expect(reportText).toContain("email is not an address");
    expect(reportText).toContain("name is required");

    // The invitation, in the person's language; nobody else's account is invited.
    const mail = await waitForMail(app, newcomer, "Te han invitado");
    const token = /token=([A-Za-z0-9_-]+)/.exec(mail.text)?.[1] ?? "";
    await waitForMail(app, second, "You are invited");
    expect(await db.sql`select 1 from account_tokens where purpose = 'account-invitation' and email = ${existing.email}`).toHaveLength(0);

    const password = strongPassword();
    const accepted = await call(app, "POST", "/v1/auth/invitations/accept", { body: { token, password } });
    expect(accepted.status).toBe(201);
    expect(accepted.headers.get("location")).toBe(`/api/v1/users/${created?.id}`);
    const replay = await call(app, "POST", "/v1/auth/invitations/accept", { body: { token, password: strongPassword() } });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { code: string }).code).toBe("TOKEN_USED");

    const signedIn = await login(app, newcomer, password);
    expect(signedIn.status).toBe(200);
    const me = await call(app, "GET", "/v1/me", { token: ((await signedIn.json()) as { accessToken: string }).accessToken });
    expect(await me.json()).toMatchObject({ id: created?.id, email: newcomer, displayName: "Nueva Persona", emailVerified: true });
    expect(await db.sql`select count(*)::int as n from users where email = ${newcomer}`).toEqual([{ n: 1 }]);

    // The same file again changes nothing and invites nobody twice.
    const again = await uploadCsv(csv);
    const repeated = await runImport(again, false);
    expect(repeated.counts.user).toMatchObject({ created: 0, updated: 0, unchanged: 3, failed: 2 });
    expect(await db.sql`select count(*)::int as n from account_tokens where purpose = 'account-invitation' and email = ${second}`).toEqual([{ n: 1 }]);
  });
});
