import { randomUUID } from "node:crypto";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DomainContext, systemActor } from "../../../domain/shared/context.js";
import { resealBatch } from "../../../domain/webhooks/secret-sealer.js";
import { createSecretSealer, type SealingKey } from "../../../functions/platform/webhook-secrets.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const k1 = { id: "k1", key: Buffer.alloc(32, 1) };
const k2 = { id: "k2", key: Buffer.alloc(32, 2) };
const lost = { id: "lost", key: Buffer.alloc(32, 9) };

describe("resealing webhook secrets in batches", () => {
  it("seals plain and retired-key secrets under the current key, lists what no key opens, and changes nothing the second time", async () => {
    const row = (plain: string, key?: SealingKey) => {
      const id = uuidv7();
      return { id, plain, stored: key ? createSecretSealer([key]).seal(plain, id) : plain };
    };
    const rows = [row("whsec_plain_one"), row("whsec_old_key", k1), row("whsec_current", k2), row("whsec_lost_key", lost), row("whsec_plain_two")];
    for (const r of rows) await db.sql`insert into webhooks (id, url, secret) values (${r.id}, 'https://203.0.113.10/hook', ${r.stored})`;

    const sealer = createSecretSealer([k2, k1]);
    const ctx: DomainContext = { db: db.db, now: () => new Date(), newId: uuidv7, actor: { ...systemActor, requestId: randomUUID() } };
    const pass = async () => {
      const totals = { scanned: 0, resealed: 0, unopenable: [] as string[] };
      let afterId: string | undefined;
      for (;;) {
        const batch = await db.db.transaction((tx) => resealBatch({ ...ctx, db: tx }, sealer, { limit: 2, ...(afterId ? { afterId } : {}) }));
        totals.scanned += batch.scanned;
        totals.resealed += batch.resealed;
        totals.unopenable.push(...batch.unopenable);
        if (batch.scanned < 2 || !batch.lastId) return totals;
        afterId = batch.lastId;
      }
    };

    expect(await pass()).toEqual({ scanned: 5, resealed: 3, unopenable: [rows[3]?.id] });
    const stored = new Map((await db.sql<{ id: string; secret: string }[]>`select id, secret from webhooks`).map((r) => [r.id, r.secret]));
    for (const r of rows.filter((_, i) => i !== 3)) {
      expect(stored.get(r.id), r.plain).toMatch(/^enc:v1:k2:/);
      expect(sealer.open(stored.get(r.id) as string, r.id)).toBe(r.plain);
    }
    expect(stored.get(rows[3]?.id as string)).toBe(rows[3]?.stored);
    expect(await pass()).toEqual({ scanned: 5, resealed: 0, unopenable: [rows[3]?.id] });
    expect((await db.sql`select details from audit_log where action = 'webhook.secrets-resealed' order by id`).map((a) => a.details.resealed)).toEqual([2, 1]);
  });
});
