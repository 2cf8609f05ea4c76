import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActivityStore, StoredStatement } from "../../../domain/activity/statements.js";
import type { AnalyticsStore } from "../../../domain/analytics/store.js";
import { cosmosActivityStore, cosmosContainer, openCosmos } from "../../../functions/platform/cosmos-activity.js";
import { cosmosAnalyticsStore } from "../../../functions/platform/cosmos-analytics.js";
import { testSettings } from "../../support/settings.js";
import { startCosmosEndpoint, type CosmosEndpoint } from "@ringlet/local-runtime/cosmos";

let endpoint: CosmosEndpoint;
let activity: ActivityStore;
let analytics: AnalyticsStore;
const learnerId = "00000000-0000-7000-8000-0000000a0001";
const courseId = "00000000-0000-7000-8000-0000000c0001";

beforeAll(async () => {
  endpoint = await startCosmosEndpoint({ port: 0 });
  const s = testSettings({ CosmosConnection: endpoint.connectionString });
  const client = await openCosmos(s);
  activity = cosmosActivityStore(cosmosContainer(() => client, s, { id: "activity", partitionKey: "/learnerId" }));
  analytics = cosmosAnalyticsStore(cosmosContainer(() => client, s, { id: "analytics", partitionKey: "/courseId", ttl: true }));
});
afterAll(async () => {
  await endpoint?.stop();
});

const statement = (id: string, minute: number): StoredStatement => ({
  id,
  verb: "viewed",
  object: { type: "lesson", id: "00000000-0000-7000-8000-0000000e0001" },
  timestamp: new Date(Date.UTC(2026, 10, 20, 10, minute)).toISOString(),
  learnerId,
  source: "client",
  storedAt: "2026-11-20T12:00:00.000Z",
});

describe("the Cosmos activity store (local endpoint, real SDK)", () => {
  it("stores a batch in one bulk request, counting the statements already stored as duplicates, one by id", async () => {
    expect(await activity.append(learnerId, [statement("one", 1)])).toEqual({ accepted: 1, duplicates: 0 });
    expect(await activity.append(learnerId, [statement("one", 1)])).toEqual({ accepted: 0, duplicates: 1 });
    const batch = Array.from({ length: 100 }, (_, i) => statement(i === 0 ? "one" : `many-${i}`, i % 60));
    expect(await activity.append(learnerId, batch)).toEqual({ accepted: 99, duplicates: 1 });
    expect(await activity.append(learnerId, batch)).toEqual({ accepted: 0, duplicates: 100 });

    const seen: string[] = [];
    let continuation: string | undefined;
    do {
      const page = await activity.timeline(learnerId, { limit: 40, ...(continuation ? { continuation } : {}) });
      seen.push(...page.items.map((s) => s.id));
      continuation = page.continuation ?? undefined;
    } while (continuation);
    expect(seen.sort()).toEqual(["one", ...Array.from({ length: 99 }, (_, i) => `many-${i + 1}`)].sort());
  });

  it("answers each of many concurrent requests with its own counts when their writes go out together", async () => {
    const learners = Array.from({ length: 6 }, (_, i) => `00000000-0000-7000-8000-0000000a01${String(i).padStart(2, "0")}`);
    const of = (learner: string, ids: string[]) => ids.map((id, k) => ({ ...statement(id, k), learnerId: learner }));
    // Every learner sends the same statement twice at once (one is a duplicate) and two statements of its own.
    const answers = await Promise.all(learners.flatMap((l) => [activity.append(l, of(l, ["same"])), activity.append(l, of(l, ["same"])), activity.append(l, of(l, ["a", "b"]))]));
    for (let i = 0; i < learners.length; i++) {
      const [first, second, own] = answers.slice(i * 3, i * 3 + 3);
      expect([first, second].map((a) => a?.accepted).sort()).toEqual([0, 1]);
      expect((first?.duplicates ?? 0) + (second?.duplicates ?? 0)).toBe(1);
      expect(own).toEqual({ accepted: 2, duplicates: 0 });
    }
    for (const l of learners) expect((await activity.timeline(l, { limit: 10 })).items.map((s) => s.id).sort()).toEqual(["a", "b", "same"]);
  });

  it("forgets a learner's whole timeline, a page of deletes per bulk request, and nobody else's", async () => {
    const erased = "00000000-0000-7000-8000-0000000a0201";
    const kept = "00000000-0000-7000-8000-0000000a0202";
    const of = (learner: string, n: number) => Array.from({ length: n }, (_, i) => ({ ...statement(`forget-${i}`, i % 60), learnerId: learner }));
    expect((await activity.append(erased, of(erased, 250))).accepted).toBe(250);
    expect((await activity.append(kept, of(kept, 3))).accepted).toBe(3);
    expect(await activity.forget(erased)).toBe(250);
    expect((await activity.timeline(erased, { limit: 10 })).items).toEqual([]);
    // Again (a redelivered user.erased): nothing left, nothing fails.
    expect(await activity.forget(erased)).toBe(0);
    expect((await activity.timeline(kept, { limit: 10 })).items).toHaveLength(3);
  });

  it("remembers the markers it wrote, and only those", async () => {
    expect(analytics.wasMarked(courseId, learnerId, "2026-11-20")).toBe(false);
    await analytics.markActive(courseId, learnerId, ["2026-11-20"]);
    expect(analytics.wasMarked(courseId, learnerId, "2026-11-20")).toBe(true);
    expect(analytics.wasMarked(courseId, learnerId, "2026-11-21")).toBe(false);
    expect(await analytics.countActive(courseId, "2026-11-20")).toBe(1);
  });
});
