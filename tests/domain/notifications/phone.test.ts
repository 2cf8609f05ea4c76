import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setPhone } from "../../../domain/notifications/phone.js";
import { type DomainContext, systemActor } from "../../../domain/shared/context.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const rules = { codeTtlMinutes: 10, maxAttempts: 3, maxSendsPerHour: 2 };
const ctx = (now: Date): DomainContext => ({ db: db.db, now: () => now, newId: randomUUID, actor: systemActor });

async function user(): Promise<string> {
  const id = randomUUID();
  await db.sql`insert into users (id, email, display_name) values (${id}, ${`${id}@example.test`}, 'U')`;
  return id;
}

describe("phone verification codes", () => {
  it("limits the codes texted to one number per hour, whichever accounts ask (SMS pumping)", async () => {
    const now = new Date();
    const target = "+34612000077";
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await setPhone(ctx(now), await user(), target, rules));
    expect(answers.map((a) => a.ok)).toEqual([true, true, false]);
    expect(answers[2]).toMatchObject({ ok: false, error: { code: "PHONE_CODE_THROTTLED" } });
    expect(await db.sql`select 1 from channel_deliveries where target = ${target}`).toHaveLength(2);
    // Another number is not held back by it.
    expect((await setPhone(ctx(now), await user(), "+34612000078", rules)).ok).toBe(true);
  });

  it("records the code's expiry with its SMS, so a late code is dropped", async () => {
    const now = new Date();
    const userId = await user();
    expect((await setPhone(ctx(now), userId, "+34612000079", rules)).ok).toBe(true);
    const [sms] = await db.sql<{ payload: { text: string; expiresAt: string } }[]>`select payload from channel_deliveries where user_id = ${userId}`;
    expect(Date.parse(sms!.payload.expiresAt)).toBe(now.getTime() + 600_000);
  });
});
