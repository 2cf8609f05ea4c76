import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptAccountInvitation, inviteUser } from "../../../domain/identity/account-invitations.js";
import type { ImportRun, StagedRow } from "../../../domain/imports/import-kind.js";
import { ensureUsers, type UserRow, usersPart } from "../../../domain/imports/kinds/users.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";

let db: TestDatabase;
let ctx: DomainContext;
let inTx: ReturnType<typeof inTransactionOf>;

beforeAll(async () => {
  ({ db, ctx } = await openDomainDatabase());
  inTx = inTransactionOf(db, ctx);
});

afterAll(async () => {
  await db?.drop();
});

const kdf = { logN: 10, r: 8, p: 1 };
const runOf = (over: Partial<ImportRun> = {}): ImportRun => ({
  importId: ctx.newId(),
  dryRun: false,
  importerUserId: ctx.newId(),
  courseId: null,
  appUrl: "https://app.example",
  invitationTtlHours: 72,
  ...over,
});
const tag = () => ctx.newId().slice(-12);
const staged = (rows: UserRow[]): StagedRow<UserRow>[] => rows.map((row, i) => ({ line: i + 2, row }));
const parse = (record: Record<string, string>) => usersPart.schema.safeParse(record);

async function seedUser(email: string, over: { name?: string; locale?: string; disabled?: boolean; erased?: boolean; admin?: boolean } = {}): Promise<string> {
  const id = ctx.newId();
  await db.sql`insert into users (id, email, display_name, locale, password_hash, is_admin, disabled_at, erased_at, email_verified_at)
    values (${id}, ${email}, ${over.name ?? "Existing Person"}, ${over.locale ?? "en"}, 'scrypt$seeded', ${over.admin ?? false},
      ${over.disabled ? new Date().toISOString() : null}::timestamptz, ${over.erased ? new Date().toISOString() : null}::timestamptz, now())`;
  return id;
}

const counts = async () =>
  (
    await db.sql<{ users: number; tokens: number; emails: number; audits: number }[]>`select
      (select count(*)::int from users) as users, (select count(*)::int from account_tokens) as tokens,
      (select count(*)::int from email_deliveries) as emails, (select count(*)::int from audit_log) as audits`
  )[0];

const invitationTokenOf = async (email: string): Promise<string> => {
  const [mail] = await db.sql<{ text: string }[]>`select text from email_deliveries where recipient = ${email} and template = 'account-invitation' order by created_at desc limit 1`;
  const token = /token=([A-Za-z0-9_-]+)/.exec(mail?.text ?? "")?.[1];
  if (!token) throw new Error(`no invitation email to ${email}`);
  return token;
};

describe("the users kind's row schema", () => {
  it("normalises the address and the locale, and words each refusal for a person", () => {
    expect(parse({ email: " Ana@Example.TEST ", name: "Ana", locale: "es-mx" })).toMatchObject({ success: true, data: { email: "ana@example.test", name: "Ana", locale: "es-MX" } });
    expect(parse({ email: "ana@example.test", name: "Ana", locale: "" })).toMatchObject({ success: true, data: { locale: null } });
    expect(parse({ email: "ana@example.test", name: "Ana" })).toMatchObject({ success: true, data: { locale: null } });
    const messages = (record: Record<string, string>) => parse(record).error?.issues.map((i) => i.message);
    expect(messages({ email: "not-an-address", name: "Ana" })).toEqual(["email is not an address"]);
    expect(messages({ email: "", name: "Ana" })).toContain("email is required");
    expect(messages({ email: "ana@example.test", name: "" })).toEqual(["name is required"]);
    expect(messages({ email: "ana@example.test", name: "A\u0000na" })).toEqual(["name holds a control character"]);
    expect(messages({ email: "ana@example.test", name: "x".repeat(101) })).toEqual(["name is longer than 100 characters"]);
    expect(messages({ email: "ana@example.test", name: "Ana", locale: "not a tag!" })).toEqual(["locale is not a language tag such as en or es-MX"]);
    expect(usersPart.key({ email: "ana@example.test", name: "Ana", locale: null })).toBe("ana@example.test");
    expect(usersPart.requiredColumns).toEqual(["email", "name"]);
  });
});

describe("ensureUsers and the users kind", () => {
  it("creates, updates, leaves unchanged and fails rows of one batch, and a second apply changes nothing", async () => {
    const t = tag();
    const same = `same-${t}@example.test`;
    const renamed = `renamed-${t}@example.test`;
    const disabled = `disabled-${t}@example.test`;
    const erased = `erased-${t}@example.test`;
    const fresh = `fresh-${t}@example.test`;
    const sameId = await seedUser(same, { name: "Same Name" });
    const renamedId = await seedUser(renamed, { name: "Old Name", admin: true });
    await seedUser(disabled, { disabled: true });
    await seedUser(erased, { erased: true });
    const rows = staged([
      { email: same, name: "Same Name", locale: null },
      { email: renamed, name: "New Name", locale: "es" },
      { email: disabled, name: "Any", locale: null },
      { email: erased, name: "Any", locale: null },
      { email: fresh, name: "Fresh Person", locale: "es-MX" },
    ]);
    const run = runOf();
    const outcomes = await inTx((tx) => usersPart.apply(tx, run, rows));
    expect(outcomes).toEqual([
      { result: "unchanged", entity: "user" },
      { result: "updated", entity: "user" },
      { result: "failed", entity: "user", reason: "the account of this address is deactivated" },
      { result: "failed", entity: "user", reason: "the account of this address was erased" },
      { result: "created", entity: "user" },
    ]);

    const [renamedRow] = await db.sql`select display_name, locale, password_hash, is_admin from users where id = ${renamedId}`;
    expect(renamedRow).toEqual({ display_name: "New Name", locale: "es", password_hash: "scrypt$seeded", is_admin: true });
    const [created] = await db.sql`select id, display_name, locale, password_hash, email_verified_at, is_admin from users where email = ${fresh}`;
    expect(created).toMatchObject({ display_name: "Fresh Person", locale: "es-MX", password_hash: null, email_verified_at: null, is_admin: false });

    // The created user, and only it, is invited: one live token naming it, one email in its language.
    const tokens = await db.sql`select user_id, email from account_tokens where purpose = 'account-invitation' and email like ${`%-${t}@example.test`}`;
    expect(tokens).toEqual([{ user_id: created?.id, email: fresh }]);
    const mails = await db.sql`select recipient, subject, status from email_deliveries where recipient like ${`%-${t}@example.test`}`;
    expect(mails).toEqual([{ recipient: fresh, subject: "Te han invitado a Ringlet", status: "pending" }]);
    const audits = await db.sql`select action, target_id, details from audit_log where details->>'importId' = ${run.importId} order by action`;
    expect(audits).toEqual([
      { action: "user.imported", target_id: created?.id, details: { importId: run.importId } },
      { action: "user.profile-updated", target_id: renamedId, details: { importId: run.importId, changed: ["displayName", "locale"] } },
    ]);
    expect(sameId).toBeTruthy();

    // The same rows again: nothing changes, nobody is invited twice.
    const before = await counts();
    const again = await inTx((tx) => usersPart.apply(tx, runOf(), rows));
    expect(again.map((o) => o.result)).toEqual(["unchanged", "unchanged", "failed", "failed", "unchanged"]);
    expect(await counts()).toEqual(before);
  });

  it("writes nothing in a dry run and says what it would do", async () => {
    const t = tag();
    const existing = `dry-existing-${t}@example.test`;
    await seedUser(existing, { name: "Before" });
    const before = await counts();
    const people = [
      { line: 2, email: `dry-new-${t}@example.test`, name: "New", locale: null },
      { line: 3, email: existing, name: "After", locale: null },
      { line: 4, email: `dry-nameless-${t}@example.test`, name: null, locale: null },
      { line: 5, email: "no address", name: "X", locale: null },
    ];
    const ensured = await inTx((tx) => ensureUsers(tx, runOf({ dryRun: true }), people));
    expect(ensured.get(`dry-new-${t}@example.test`)).toEqual({ userId: null, result: "created" });
    expect(ensured.get(existing)).toMatchObject({ result: "updated", userId: expect.any(String) });
    expect(ensured.get(`dry-nameless-${t}@example.test`)).toEqual({ userId: null, result: "failed", reason: "no account has this address; give a name to create one" });
    expect(ensured.get("no address")).toEqual({ userId: null, result: "failed", reason: "email is not an address" });
    expect(await counts()).toEqual(before);
    expect((await db.sql`select display_name from users where email = ${existing}`)[0]).toEqual({ display_name: "Before" });
  });

  it("never lets course staff's imports create accounts (nor invite anyone) or change existing ones", async () => {
    const t = tag();
    const existing = `staff-existing-${t}@example.test`;
    await seedUser(existing, { name: "Kept Name" });
    const people = [
      { line: 2, email: existing, name: "Changed By Staff", locale: "es" },
      { line: 3, email: `staff-new-${t}@Example.test`, name: "Newcomer", locale: null },
      { line: 4, email: `staff-new-${t}@example.test`, name: "Newcomer Again", locale: null },
    ];
    const before = await counts();
    const ensured = await inTx((tx) => ensureUsers(tx, runOf({ courseId: ctx.newId() }), people));
    expect(ensured.get(existing)).toMatchObject({ result: "unchanged" });
    expect(ensured.get(`staff-new-${t}@example.test`)).toEqual({ userId: null, result: "failed", reason: "no account has this address; an administrator imports new people" });
    expect(ensured.size).toBe(2);
    expect((await db.sql`select display_name, locale from users where email = ${existing}`)[0]).toEqual({ display_name: "Kept Name", locale: "en" });
    expect(await db.sql`select display_name from users where email = ${`staff-new-${t}@example.test`}`).toEqual([]);
    expect(await counts()).toEqual(before);
  });

  it("creates each address once when two batches race for it", async () => {
    const t = tag();
    const people = Array.from({ length: 40 }, (_, i) => ({ line: i + 2, email: `race-${i}-${t}@example.test`, name: `Racer ${i}`, locale: null }));
    const [a, b] = await Promise.all([inTx((tx) => ensureUsers(tx, runOf(), people)), inTx((tx) => ensureUsers(tx, runOf(), [...people].reverse()))]);
    for (const p of people) {
      const results = [a.get(p.email)?.result, b.get(p.email)?.result].sort();
      expect(results).toEqual(["created", "unchanged"]);
      expect(a.get(p.email)?.userId).toBe(b.get(p.email)?.userId);
    }
    const [row] = await db.sql<{ users: number; tokens: number }[]>`select
      (select count(*)::int from users where email like ${`race-%-${t}@example.test`}) as users,
      (select count(*)::int from account_tokens where email like ${`race-%-${t}@example.test`} and superseded_at is null) as tokens`;
    expect(row).toEqual({ users: 40, tokens: 40 });
  });
});

describe("accepting the invitation of a user an import created", () => {
  it("sets that user's password and confirms its address; the link works once; a pending admin invitation is replaced", async () => {
    const email = `accept-${tag()}@example.test`;
    const adminInvite = await inTx((tx) => inviteUser(tx, { email, displayName: "Invited Earlier" }, { ttlHours: 1, appUrl: "https://app.example" }));
    expect(adminInvite.ok).toBe(true);
    const adminToken = await invitationTokenOf(email);
    const ensured = await inTx((tx) => ensureUsers(tx, runOf(), [{ line: 2, email, name: "Imported Person", locale: null }]));
    const userId = ensured.get(email)?.userId;
    expect(userId).toEqual(expect.any(String));
    const token = await invitationTokenOf(email);
    expect(token).not.toBe(adminToken);
    const options = { kdf, refreshTtlSeconds: 60 };
    expect(await acceptAccountInvitation(ctx, { token: adminToken, password: "Long-enough-password-1" }, options)).toMatchObject({ ok: false, error: { code: "TOKEN_INVALID" } });

    const accepted = await acceptAccountInvitation(ctx, { token, password: "Long-enough-password-1" }, options);
    expect(accepted).toMatchObject({ ok: true, value: { userId } });
    const [user] = await db.sql`select display_name, password_hash, email_verified_at from users where id = ${userId ?? ""}`;
    expect(user).toMatchObject({ display_name: "Imported Person", password_hash: expect.stringMatching(/^scrypt\$/), email_verified_at: expect.anything() });
    expect(await db.sql`select count(*)::int as n from users where email = ${email}`).toEqual([{ n: 1 }]);
    expect(await acceptAccountInvitation(ctx, { token, password: "Long-enough-password-2" }, options)).toMatchObject({ ok: false, error: { code: "TOKEN_USED" } });
  });

  it("refuses the link once the imported account has a password or was deactivated, and changes nothing", async () => {
    const imported = async () => {
      const email = `taken-${tag()}@example.test`;
      const ensured = await inTx((tx) => ensureUsers(tx, runOf(), [{ line: 2, email, name: "Imported", locale: null }]));
      return { userId: ensured.get(email)?.userId ?? "", token: await invitationTokenOf(email) };
    };
    const accept = (token: string) => acceptAccountInvitation(ctx, { token, password: "Long-enough-password-1" }, { kdf, refreshTtlSeconds: 60 });

    const deactivated = await imported();
    await db.sql`update users set disabled_at = now() where id = ${deactivated.userId}`;
    expect(await accept(deactivated.token)).toMatchObject({ ok: false, error: { code: "EMAIL_TAKEN" } });
    expect(await db.sql`select password_hash from users where id = ${deactivated.userId}`).toEqual([{ password_hash: null }]);
    expect(await db.sql`select used_at from account_tokens where user_id = ${deactivated.userId}`).toEqual([{ used_at: null }]);

    // A password set meanwhile (another way in) is never replaced by the link.
    const withPassword = await imported();
    await db.sql`update users set password_hash = 'scrypt$set-elsewhere' where id = ${withPassword.userId}`;
    expect(await accept(withPassword.token)).toMatchObject({ ok: false, error: { code: "EMAIL_TAKEN" } });
    expect(await db.sql`select password_hash from users where id = ${withPassword.userId}`).toEqual([{ password_hash: "scrypt$set-elsewhere" }]);
    expect(await db.sql`select used_at from account_tokens where user_id = ${withPassword.userId}`).toEqual([{ used_at: null }]);
  });
});
