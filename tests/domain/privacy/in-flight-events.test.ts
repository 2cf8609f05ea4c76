import { afterAll, beforeAll, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import type { DomainContext } from "../../../domain/shared/context.js";
import { pseudonymFor } from "../../../domain/privacy/pseudonym.js";
import { planDeliveriesFor } from "../../../domain/webhooks/webhooks.js";
import type { TestDatabase } from "../../support/database.js";
import { openDomainDatabase } from "../../support/domain-database.js";

let db: TestDatabase;
let ctx: DomainContext;

beforeAll(async () => ({ db, ctx } = await openDomainDatabase()));
afterAll(() => db?.drop());

const registered = (userId: string, email: string, displayName: string) => ({
  id: uuidv7(),
  type: "user.registered",
  occurredAt: new Date().toISOString(),
  actor: null,
  data: { userId, email, displayName },
  traceparent: null,
});

it("stores a webhook delivery of an event published before its user was erased under the pseudonym", async () => {
  const [erased, other] = [uuidv7(), uuidv7()];
  await db.sql`insert into users (id, email, display_name, erased_at) values (${erased}, ${pseudonymFor(erased).email}, ${pseudonymFor(erased).displayName}, now()), (${other}, 'kept@example.test', 'Kept', null)`;
  await db.sql`insert into webhooks (id, url, secret) values (${uuidv7()}, 'https://hooks.example.test/in', 'whsec_x')`;

  const planned = await planDeliveriesFor(ctx, [registered(erased, "gone@example.test", "Gone Person"), registered(other, "kept@example.test", "Kept")], 60);

  const payloads = planned.map((p) => (p.delivery.payload as { data: Record<string, string> }).data);
  expect(payloads).toEqual(
    expect.arrayContaining([
      { userId: erased, email: pseudonymFor(erased).email, displayName: pseudonymFor(erased).displayName },
      { userId: other, email: "kept@example.test", displayName: "Kept" },
    ]),
  );
  expect(JSON.stringify(await db.sql`select payload from webhook_deliveries`)).not.toMatch(/gone@example|Gone Person/);
});
