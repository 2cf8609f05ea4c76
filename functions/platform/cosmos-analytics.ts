import type { Container } from "@azure/cosmos";
import { emptyRecord, type LearnerRecord } from "../../domain/analytics/learner-record.js";
import type { AnalyticsStore, DayRollup } from "../../domain/analytics/store.js";
import { withoutSystemFields } from "./cosmos-activity.js";

// Markers only feed the rollup of recent days; Cosmos expires them after this (the local endpoint keeps them).
const MARKER_TTL_S = 400 * 86_400;
const MAX_CONFLICT_RETRIES = 40;

const codeOf = (err: unknown): number | undefined => (err as { code?: number }).code;

/** The model without Cosmos DB's properties and the document's own `id` and `kind`. */
function clean<T>(doc: Record<string, unknown>): T {
  const { id, kind, ...rest } = withoutSystemFields(doc);
  void [id, kind];
  return rest as T;
}

/**
 * The analytics read models in container `analytics`, partitioned by course: `learner:<id>` records,
 * `active:<date>:<learner>` markers and `day:<date>` rollups. Every query stays inside one partition and
 * within what both Cosmos DB and the local endpoint support (no GROUP BY / DISTINCT / OFFSET); each also
 * names the course in its filter, because the local endpoint does not scope queries by partition key.
 */
export function cosmosAnalyticsStore(container: () => Promise<Container>): AnalyticsStore {
  // Markers this instance already wrote: a learner sends many statements a day, and each would otherwise cost
  // a create answered 409. Bounded; forgetting one only costs that create again.
  const marked = new Set<string>();
  const remember = (key: string) => {
    if (marked.size >= 50_000) marked.clear();
    marked.add(key);
  };
  return {
    async updateLearner(courseId, learnerId, change) {
      const c = await container();
      const item = c.item(`learner:${learnerId}`, courseId);
      for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt += 1) {
        const { resource, etag } = await item.read<Record<string, unknown>>();
        const before = resource ? { ...emptyRecord(courseId, learnerId), ...clean<LearnerRecord>(resource) } : emptyRecord(courseId, learnerId);
        const after = change(before);
        if (resource && JSON.stringify(after) === JSON.stringify(before)) return; // a duplicate: nothing to write
        const doc = { ...after, id: `learner:${learnerId}`, kind: "learner" };
        try {
          if (resource) await item.replace(doc, { accessCondition: { type: "IfMatch", condition: etag as string } });
          else await c.items.create(doc);
          return;
        } catch (err) {
          // Someone else wrote the record first: read it again and re-apply the change, after a jittered
          // pause so that writers racing for one record spread out instead of colliding again.
          if (codeOf(err) !== 412 && codeOf(err) !== 409) throw err;
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 10 * 2 ** attempt)));
        }
      }
      throw new Error(`analytics record of ${learnerId} in ${courseId}: too many concurrent updates`);
    },
    async learners(courseId) {
      const c = await container();
      const { resources } = await c.items
        .query<Record<string, unknown>>({ query: "SELECT * FROM c WHERE c.courseId = @course AND c.kind = 'learner'", parameters: [{ name: "@course", value: courseId }] }, { partitionKey: courseId, maxItemCount: 1000 })
        .fetchAll();
      return resources.map((r) => clean<LearnerRecord>(r));
    },
    async markActive(courseId, learnerId, dates) {
      const fresh = dates.filter((date) => !marked.has(`${courseId}|${learnerId}|${date}`));
      if (fresh.length === 0) return;
      const c = await container();
      await Promise.all(
        fresh.map(async (date) => {
          try {
            await c.items.create({ id: `active:${date}:${learnerId}`, kind: "active", courseId, learnerId, date, ttl: MARKER_TTL_S });
          } catch (err) {
            if (codeOf(err) !== 409) throw err;
          }
          remember(`${courseId}|${learnerId}|${date}`);
        }),
      );
    },
    wasMarked(courseId, learnerId, date) {
      return marked.has(`${courseId}|${learnerId}|${date}`);
    },
    async activeMarkers(courseId, from, to) {
      const c = await container();
      const { resources } = await c.items
        .query<{ learnerId: string; date: string }>(
          { query: "SELECT c.learnerId, c.date FROM c WHERE c.courseId = @course AND c.kind = 'active' AND c.date >= @from AND c.date <= @to", parameters: [{ name: "@course", value: courseId }, { name: "@from", value: from }, { name: "@to", value: to }] },
          { partitionKey: courseId, maxItemCount: 1000 },
        )
        .fetchAll();
      return resources;
    },
    async countActive(courseId, date) {
      const c = await container();
      const { resources } = await c.items
        .query<number>({ query: "SELECT VALUE COUNT(1) FROM c WHERE c.courseId = @course AND c.kind = 'active' AND c.date = @date", parameters: [{ name: "@course", value: courseId }, { name: "@date", value: date }] }, { partitionKey: courseId })
        .fetchAll();
      return resources[0] ?? 0;
    },
    async rollups(courseId, from, to) {
      const c = await container();
      const { resources } = await c.items
        .query<Record<string, unknown>>(
          { query: "SELECT * FROM c WHERE c.courseId = @course AND c.kind = 'day' AND c.date >= @from AND c.date <= @to", parameters: [{ name: "@course", value: courseId }, { name: "@from", value: from }, { name: "@to", value: to }] },
          { partitionKey: courseId },
        )
        .fetchAll();
      return resources.map((r) => clean<DayRollup>(r));
    },
    async putRollup(rollup) {
      const c = await container();
      await c.items.upsert({ ...rollup, id: `day:${rollup.date}`, kind: "day" });
    },
  };
}
