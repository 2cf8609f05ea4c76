import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptAccountInvitation } from "../../../domain/identity/account-invitations.js";
import { issueAccountToken, lockAccountToken } from "../../../domain/identity/account-tokens.js";
import type { ScryptParams } from "../../../domain/identity/password-hash.js";
import { confirmPasswordReset } from "../../../domain/identity/password-reset.js";
import { housekeeping } from "../../../domain/maintenance/housekeeping.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";

let db: TestDatabase;
let ctx: DomainContext;

beforeAll(async () => {
  ({ db, ctx } = await openDomainDatabase());
});

afterAll(async () => {
  await db?.drop();
});

const live = (email: string) => db.sql`select id from account_tokens where email = ${email} and used_at is null and superseded_at is null`;

describe("account tokens", () => {
  it("keeps one live token per purpose and address when issues race, and only the newest works", async () => {
    const email = `race-${ctx.newId()}@example.test`;
    const run = inTransactionOf(db, ctx);
    const issued = await Promise.all(
      Array.from({ length: 8 }, () => run((tx) => issueAccountToken(tx, { purpose: "password-reset", email, userId: null, ttlMs: 60_000 }))),
    );
    expect(await live(email)).toHaveLength(1);
    const outcomes = await Promise.all(issued.map((t) => run(async (tx) => (await lockAccountToken(tx, "password-reset", t.token)).ok)));
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    // Another purpose for the same address is its own line.
    await run((tx) => issueAccountToken(tx, { purpose: "account-invitation", email, userId: null, ttlMs: 60_000 }));
    expect(await live(email)).toHaveLength(2);
    // A token of one purpose does not work for another.
    const [first] = issued;
    expect(await run((tx) => lockAccountToken(tx, "verify-email", first?.token ?? ""))).toMatchObject({ ok: false, error: { code: "TOKEN_INVALID" } });
  });

  it("is purged by housekeeping once expired longer than the token retention", async () => {
    const email = `old-${ctx.newId()}@example.test`;
    const run = inTransactionOf(db, ctx);
    await run((tx) => issueAccountToken(tx, { purpose: "verify-email", email, userId: null, ttlMs: 60_000 }));
    await run((tx) => issueAccountToken(tx, { purpose: "password-reset", email, userId: null, ttlMs: 60_000 }));
    await db.sql`update account_tokens set expires_at = now() - interval '40 days' where email = ${email} and purpose = 'verify-email'`;
    const result = await housekeeping(db.db, new Date(), { eventDays: 30, tokenDays: 30 }, { remove: async () => undefined, removePrefix: async () => 0 });
    expect(result.accountTokens).toBeGreaterThanOrEqual(1);
    expect((await db.sql<{ purpose: string }[]>`select purpose from account_tokens where email = ${email}`).map((r) => r.purpose)).toEqual(["password-reset"]);
  });
});

describe("redeeming a token with a new password", () => {
  // A KDF that throws when used: a refusal that hashed first would throw instead of answering.
  const exploding: ScryptParams = { logN: 0, r: 8, p: 1 };

  it("refuses a forged, used or expired token before hashing anything (a forged token costs no KDF)", async () => {
    const options = { kdf: exploding, refreshTtlSeconds: 60 };
    expect(await acceptAccountInvitation(ctx, { token: "forged-token", password: "Long-enough-password-1" }, options)).toMatchObject({ ok: false, error: { code: "TOKEN_INVALID" } });
    expect(await confirmPasswordReset(ctx, { token: "forged-token", newPassword: "Long-enough-password-1" }, exploding, { appUrl: "https://app.example" })).toMatchObject({
      ok: false,
      error: { code: "TOKEN_INVALID" },
    });
    const email = `expired-${ctx.newId()}@example.test`;
    const issued = await inTransactionOf(db, ctx)((tx) => issueAccountToken(tx, { purpose: "account-invitation", email, userId: null, ttlMs: -1 }));
    expect(await acceptAccountInvitation(ctx, { token: issued.token, password: "Long-enough-password-1" }, options)).toMatchObject({ ok: false, error: { code: "TOKEN_EXPIRED" } });
  });
});
