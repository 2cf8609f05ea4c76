import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { claimPendingEvents, markPublished } from "../../../domain/outbox/claim-events.js";
import { createTestDatabase, type TestDatabase } from "../../support/database.js";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ max: 10 });
});
afterAll(async () => {
  await db?.drop();
});

async function commitEvents(aggregates: string[], perAggregate: number): Promise<void> {
  for (let i = 0; i < perAggregate; i++) {
    for (const agg of aggregates) {
      await db.sql`insert into outbox (id, type, aggregate_type, aggregate_id, occurred_at, data)
        values (${uuidv7()}, 'test.happened', 'thing', ${agg}, now(), ${JSON.stringify({ n: i })}::jsonb)`;
    }
  }
}

describe("claiming outbox events", () => {
  it("never gives one row, or two rows of one aggregate, to two relays at once", async () => {
    await commitEvents(["a", "b", "c", "d"], 5);
    let releaseFirst: () => void = () => {};
    const firstHolds = new Promise<void>((r) => (releaseFirst = r));
    let firstClaimed: string[] = [];
    const first = db.db.transaction(async (tx) => {
      const claimed = await claimPendingEvents(tx, 6);
      firstClaimed = claimed.map((c) => `${c.aggregateId}:${c.sequence}`);
      await firstHolds;
      await markPublished(tx, claimed.map((c) => c.envelope.id), new Date());
    });
    await new Promise((r) => setTimeout(r, 200));
    const second = await db.db.transaction(async (tx) => claimPendingEvents(tx, 100));
    releaseFirst();
    await first;
    const firstAggregates = new Set(firstClaimed.map((c) => c.split(":")[0] as string));
    const secondAggregates = new Set(second.map((c) => c.aggregateId));
    // Disjoint aggregates: each aggregate's events go out through one relay, in order.
    expect([...firstAggregates].filter((a) => secondAggregates.has(a))).toEqual([]);
    expect(firstClaimed.length).toBe(6);
    // Once the first relay commits, everything it did not publish is there for the next claim.
    const rest = await db.db.transaction((tx) => claimPendingEvents(tx, 100));
    expect(rest).toHaveLength(20 - 6);
  });

  it("hands out each aggregate's events in commit order", async () => {
    await db.sql`update outbox set published_at = now()`;
    await commitEvents(["x", "y"], 4);
    const claimed = await db.db.transaction((tx) => claimPendingEvents(tx, 100));
    for (const agg of ["x", "y"]) {
      const seqs = claimed.filter((c) => c.aggregateId === agg).map((c) => c.sequence);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs).toHaveLength(4);
    }
  });
});
