import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { getUser, updateProfile } from "../../../domain/identity/manage-users.js";
import type { UserView } from "../../../domain/identity/user-view.js";
import type { DomainContext } from "../../../domain/shared/context.js";
import type { TestDatabase } from "../../support/database.js";
import { inTransactionOf, openDomainDatabase } from "../../support/domain-database.js";

let db: TestDatabase;
let ctx: DomainContext;

beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

const inTransaction = <T>(fn: (tx: DomainContext) => Promise<T>) => inTransactionOf(db, ctx)(fn);

describe("updateProfile's precondition", () => {
  it("sees the user as they are before the change, and a refusal it throws changes nothing", async () => {
    const id = uuidv7();
    await db.sql`insert into users (id, email, display_name) values (${id}, ${`${id}@example.test`}, 'Before')`;
    const seen: UserView[] = [];
    const changed = await inTransaction((tx) => updateProfile(tx, id, { displayName: "After" }, (current) => void seen.push(current)));
    expect(changed).toMatchObject({ ok: true, value: { displayName: "After" } });
    expect(seen.map((u) => u.displayName)).toEqual(["Before"]);

    const refusal = new Error("stale");
    await expect(
      inTransaction((tx) =>
        updateProfile(tx, id, { displayName: "Lost" }, () => {
          throw refusal;
        }),
      ),
    ).rejects.toBe(refusal);
    expect(await getUser(db.db, id)).toMatchObject({ ok: true, value: { displayName: "After" } });
  });

  it("is not asked about a user who does not exist", async () => {
    let asked = false;
    expect(await updateProfile(ctx, uuidv7(), {}, () => void (asked = true))).toMatchObject({ ok: false, error: { code: "USER_NOT_FOUND" } });
    expect(asked).toBe(false);
  });
});
