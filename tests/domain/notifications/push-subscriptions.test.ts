import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_PUSH_SUBSCRIPTIONS, pushSubscriptionsOf, registerPushSubscription } from "../../../domain/notifications/push-subscriptions.js";
import { type DomainContext, systemActor } from "../../../domain/shared/context.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

let clock = Date.now();
const ctx = (): DomainContext => ({ db: db.db, now: () => new Date((clock += 1000)), newId: randomUUID, actor: systemActor });
const browser = (n: number) => ({ endpoint: `https://push.example/${n}`, p256dh: `key-${n}`, auth: `auth-${n}`, userAgent: null });
async function user(): Promise<string> {
  const id = randomUUID();
  await db.sql`insert into users (id, email, display_name) values (${id}, ${`${id}@example.test`}, 'U')`;
  return id;
}

describe("push subscriptions", () => {
  it("keeps a user's newest registrations up to the limit, the oldest going first", async () => {
    const userId = await user();
    for (let n = 0; n <= MAX_PUSH_SUBSCRIPTIONS; n++) await registerPushSubscription(ctx(), userId, browser(n));
    const kept = await db.sql<{ endpoint: string }[]>`select endpoint from push_subscriptions where user_id = ${userId} order by endpoint`;
    expect(kept).toHaveLength(MAX_PUSH_SUBSCRIPTIONS);
    expect(kept.map((r) => r.endpoint)).not.toContain("https://push.example/0");
  });

  it("moves a browser registering again to whoever registers it, with its new keys", async () => {
    const [first, second] = [await user(), await user()];
    const made = await registerPushSubscription(ctx(), first, browser(100));
    expect(made.created).toBe(true);
    const moved = await registerPushSubscription(ctx(), second, { ...browser(100), p256dh: "new-key" });
    expect(moved).toMatchObject({ created: false, subscription: { id: made.subscription.id, origin: "https://push.example" } });
    expect(await pushSubscriptionsOf(db.db, first)).toEqual([]);
    expect(await db.sql`select user_id, p256dh from push_subscriptions where id = ${made.subscription.id}`).toEqual([{ user_id: second, p256dh: "new-key" }]);
  });
});
