import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { foldEvent } from "../../../domain/analytics/analytics.js";
import type { AnalyticsStore } from "../../../domain/analytics/store.js";
import { cosmosContainer, openCosmos } from "../../../functions/platform/cosmos-activity.js";
import { cosmosAnalyticsStore } from "../../../functions/platform/cosmos-analytics.js";
import { testSettings } from "../../support/settings.js";
import { startCosmosEndpoint, type CosmosEndpoint } from "@ringlet/local-runtime/cosmos";

let endpoint: CosmosEndpoint;
let store: AnalyticsStore;
const courseId = "00000000-0000-7000-8000-00000000c001";

beforeAll(async () => {
  endpoint = await startCosmosEndpoint({ port: 0 });
  const s = testSettings({ CosmosConnection: endpoint.connectionString });
  const client = await openCosmos(s);
  store = cosmosAnalyticsStore(cosmosContainer(() => client, s, { id: "analytics", partitionKey: "/courseId", ttl: true }));
});
afterAll(async () => {
  await endpoint?.stop();
});

const lesson = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, "0")}`;

describe("the Cosmos analytics store (local endpoint, real SDK)", () => {
  it("applies concurrent changes to one learner record without losing any (etag retries), and a duplicate changes nothing", async () => {
    const learnerId = lesson(900);
    const events = Array.from({ length: 25 }, (_, i) => ({ id: `e${i}`, type: "lesson.completed", occurredAt: new Date(Date.UTC(2026, 10, 20, 10, i)).toISOString(), data: { courseId, userId: learnerId, lessonId: lesson(i) } }));
    await Promise.all(events.map((e) => foldEvent(store, e)));
    await foldEvent(store, events[3] as (typeof events)[number]);
    const [record] = (await store.learners(courseId)).filter((r) => r.learnerId === learnerId);
    expect(record?.lessonsCompleted).toEqual(events.map((e) => e.data.lessonId).sort());
    expect(record?.lastActiveAt).toBe("2026-11-20T10:24:00.000Z");
    expect(await store.countActive(courseId, "2026-11-20")).toBe(1);
  });

  it("marks a learner active once per day, counts per day and rolls up idempotently", async () => {
    await store.markActive(courseId, lesson(901), ["2026-11-18", "2026-11-19"]);
    await store.markActive(courseId, lesson(901), ["2026-11-19"]);
    await store.markActive(courseId, lesson(902), ["2026-11-19"]);
    expect(await store.countActive(courseId, "2026-11-19")).toBe(2);
    expect((await store.activeMarkers(courseId, "2026-11-18", "2026-11-19")).length).toBe(3);
    expect(await store.countActive("00000000-0000-7000-8000-00000000c002", "2026-11-19")).toBe(0);
    for (let i = 0; i < 2; i++) await store.putRollup({ courseId, date: "2026-11-19", activeLearners: 2, rolledUpAt: "2026-11-20T02:15:00.000Z" });
    expect(await store.rollups(courseId, "2026-11-01", "2026-11-30")).toEqual([{ courseId, date: "2026-11-19", activeLearners: 2, rolledUpAt: "2026-11-20T02:15:00.000Z" }]);
  });
});
