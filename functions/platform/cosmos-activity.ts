import { Agent } from "node:https";
import type { Container, CosmosClient, JSONObject } from "@azure/cosmos";
import type { ActivityStore, StoredStatement } from "../../domain/activity/statements.js";
import { defaultAzureCredential } from "./azure-credential.js";
import type { Settings } from "./settings.js";

const ACCOUNT_ENDPOINT = /AccountEndpoint=([^;]+)/i;

/**
 * The local endpoint's certificate is self-signed: trust it for a loopback endpoint only, never globally.
 * keepAlive as in the SDK's own default agent, which this one replaces: a TLS handshake per call costs more
 * than the call.
 */
function agentFor(endpoint: string): Agent | undefined {
  const host = new URL(endpoint).hostname;
  return host === "127.0.0.1" || host === "localhost" || host === "::1" || host === "[::1]" ? new Agent({ rejectUnauthorized: false, keepAlive: true }) : undefined;
}

/** @azure/cosmos (about 270 modules) loads here, on first use: many instances and most requests never touch Cosmos DB. */
export async function openCosmos(s: Settings): Promise<CosmosClient> {
  const { CosmosClient } = await import("@azure/cosmos");
  if (s.CosmosConnection) {
    const endpoint = ACCOUNT_ENDPOINT.exec(s.CosmosConnection)?.[1] ?? "";
    const agent = agentFor(endpoint);
    return new CosmosClient({ connectionString: s.CosmosConnection, ...(agent ? { agent } : {}) });
  }
  const credential = defaultAzureCredential(s.CosmosConnection__clientId);
  return new CosmosClient({ endpoint: s.CosmosConnection__accountEndpoint as string, aadCredentials: credential });
}

/** A document as the app wrote it: without the properties Cosmos DB adds (`_rid`, `_self`, `_etag`, `_attachments`, `_ts`). */
export function withoutSystemFields<T extends object>(doc: T): Omit<T, "_rid" | "_self" | "_etag" | "_attachments" | "_ts"> {
  return Object.fromEntries(Object.entries(doc).filter(([key]) => !["_rid", "_self", "_etag", "_attachments", "_ts"].includes(key))) as Omit<T, "_rid" | "_self" | "_etag" | "_attachments" | "_ts">;
}

/**
 * A container, opened on first use. With a connection string (the local endpoint, or a key in development)
 * the database and container are created when missing; with a managed identity they are Bicep's to create,
 * since Cosmos data-plane roles cannot create them.
 */
export function cosmosContainer(client: () => CosmosClient | Promise<CosmosClient>, s: Settings, spec: { id: string; partitionKey: string; ttl?: boolean }): () => Promise<Container> {
  let opened: Promise<Container> | undefined;
  return () => {
    opened ??= (async () => {
      if (!s.CosmosConnection) return (await client()).database(s.COSMOS_DATABASE).container(spec.id);
      const { database } = await (await client()).databases.createIfNotExists({ id: s.COSMOS_DATABASE });
      // defaultTtl -1: time to live on, no default expiry; documents that carry `ttl` expire.
      const { container } = await database.containers.createIfNotExists({ id: spec.id, partitionKey: { paths: [spec.partitionKey] }, ...(spec.ttl ? { defaultTtl: -1 } : {}) });
      return container;
    })();
    // A failed attempt (endpoint down) is retried on the next use rather than remembered.
    opened.catch(() => {
      opened = undefined;
    });
    return opened;
  };
}

/** Cosmos DB takes at most 100 operations in one bulk request. */
const MAX_BULK = 100;
/**
 * How many writes one instance has out at once; statements arriving meanwhile wait and go together in the next.
 * One coalesces best (bench/activity: the SDK's and the endpoint's CPU per statement fall with the batch size),
 * and a round trip takes milliseconds; a retried create does not hold the slot (see write).
 */
const MAX_IN_FLIGHT = 1;

interface PendingCreate {
  learnerId: string;
  /** The statement as stored: a JSON document (what a bulk operation carries). */
  doc: JSONObject & { id: string };
  settle(outcome: "created" | "duplicate"): void;
  fail(err: unknown): void;
}

/**
 * Statements in container `activity`, partitioned by learner, document id `<learnerId>:<statement id>`:
 * a statement sent twice is created once (409 counts as a duplicate). Writes are group-committed: a statement
 * goes out at once when nothing else is being written, and the statements of requests that arrive while
 * writes are out go together in one bulk request (any learners; the SDK groups them by partition range), so
 * concurrent requests share round trips instead of each paying for one.
 */
export function cosmosActivityStore(container: () => Promise<Container>): ActivityStore {
  const queue: PendingCreate[] = [];
  let inFlight = 0;

  const createOne = async (c: Container, p: PendingCreate) => {
    try {
      await c.items.create(p.doc);
      p.settle("created");
    } catch (err) {
      if ((err as { code?: number }).code === 409) p.settle("duplicate");
      else p.fail(err);
    }
  };

  const write = async (batch: PendingCreate[]) => {
    const c = await container();
    if (batch.length === 1) return createOne(c, batch[0] as PendingCreate);
    // items.bulk, not executeBulkOperations: the latter holds a partly filled batch back for a second (its
    // batching window), which a request cannot afford.
    let results: Awaited<ReturnType<typeof c.items.bulk>>;
    try {
      results = await c.items.bulk(
        batch.map((p) => ({ operationType: "Create" as const, partitionKey: p.learnerId, resourceBody: p.doc })),
        { continueOnError: true },
      );
    } catch {
      // The request as a whole failed (endpoint unreachable, say), and the SDK rethrows it as a bare Error that
      // says only "Bulk request errored with: …". One create each fails with the SDK's typed error, which the
      // caller can tell apart (503 for an unreachable endpoint), and stores what can be stored (a retried
      // bulk's survivors count as duplicates).
      // Awaited, so the next group still waits for this one (createOne settles each statement, never throws).
      await Promise.all(batch.map((p) => createOne(c, p)));
      return;
    }
    const again: PendingCreate[] = [];
    results.forEach((r, i) => {
      const p = batch[i] as PendingCreate;
      if (r.statusCode === 201) p.settle("created");
      else if (r.statusCode === 409) p.settle("duplicate");
      else again.push(p);
    });
    // Anything else (throttled, say) was not applied: one create each, with the SDK's retry policy, outside
    // the slot so that a retry's wait does not hold back the statements queued behind it.
    for (const p of again) void createOne(c, p);
  };

  const pump = () => {
    while (inFlight < MAX_IN_FLIGHT && queue.length > 0) {
      const batch = queue.splice(0, MAX_BULK);
      inFlight += 1;
      void write(batch)
        .catch((err: unknown) => batch.forEach((p) => p.fail(err)))
        .finally(() => {
          inFlight -= 1;
          pump();
        });
    }
  };

  return {
    async append(learnerId, statements) {
      const outcomes = statements.map(
        (st) => new Promise<"created" | "duplicate">((settle, fail) => queue.push({ learnerId, doc: { ...(st as unknown as JSONObject), id: `${learnerId}:${st.id}`, statementId: st.id }, settle, fail })),
      );
      pump();
      const settled = await Promise.all(outcomes);
      const accepted = settled.filter((o) => o === "created").length;
      return { accepted, duplicates: settled.length - accepted };
    },
    async timeline(learnerId, page) {
      const c = await container();
      const iterator = c.items.query<StoredStatement & { statementId: string }>(
        { query: "SELECT * FROM c WHERE c.learnerId = @learner ORDER BY c.timestamp DESC", parameters: [{ name: "@learner", value: learnerId }] },
        { maxItemCount: page.limit, partitionKey: learnerId, ...(page.continuation ? { continuationToken: page.continuation } : {}) },
      );
      const res = await iterator.fetchNext();
      const items = (res.resources ?? []).map(({ statementId, ...rest }) => ({ ...withoutSystemFields(rest), id: statementId }) as StoredStatement);
      return { items, continuation: res.continuationToken ?? null };
    },
    async forget(learnerId) {
      const c = await container();
      let deleted = 0;
      // Page by page until the partition is empty, each page deleted in one bulk request (not a round trip per
      // statement: the subscription's transaction waits on this). Not deleteAllItemsForPartitionKey: a preview
      // feature, off on accounts by default and not served by the local endpoint. A document deleted meanwhile
      // (404) is gone all the same; any other refusal (throttled, say) is left for the next page's query.
      for (;;) {
        const { resources } = await c.items
          .query<{ id: string }>({ query: "SELECT c.id FROM c WHERE c.learnerId = @learner", parameters: [{ name: "@learner", value: learnerId }] }, { maxItemCount: MAX_BULK, partitionKey: learnerId })
          .fetchNext();
        if (!resources || resources.length === 0) return deleted;
        const results = await c.items.bulk(
          resources.map(({ id }) => ({ operationType: "Delete" as const, id, partitionKey: learnerId })),
          { continueOnError: true },
        );
        const refused = results.filter((r) => r.statusCode !== 204 && r.statusCode !== 404);
        deleted += results.filter((r) => r.statusCode === 204).length;
        // Nothing deleted on this page: the same page would come back for ever; fail, and the event is redelivered.
        if (refused.length === results.length) throw new Error(`activity of learner ${learnerId}: Cosmos DB refused every delete (status ${refused[0]?.statusCode})`);
      }
    },
  };
}
