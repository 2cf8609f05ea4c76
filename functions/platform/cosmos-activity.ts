import { Agent } from "node:https";
import { BulkOperationType, type Container, CosmosClient } from "@azure/cosmos";
import { DefaultAzureCredential } from "@azure/identity";
import type { ActivityStore, StoredStatement } from "../../domain/activity/statements.js";
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

export function openCosmos(s: Settings): CosmosClient {
  if (s.CosmosConnection) {
    const endpoint = ACCOUNT_ENDPOINT.exec(s.CosmosConnection)?.[1] ?? "";
    const agent = agentFor(endpoint);
    return new CosmosClient({ connectionString: s.CosmosConnection, ...(agent ? { agent } : {}) });
  }
  const credential = new DefaultAzureCredential(s.CosmosConnection__clientId ? { managedIdentityClientId: s.CosmosConnection__clientId } : {});
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
export function cosmosContainer(client: () => CosmosClient, s: Settings, spec: { id: string; partitionKey: string; ttl?: boolean }): () => Promise<Container> {
  let opened: Promise<Container> | undefined;
  return () => {
    opened ??= (async () => {
      if (!s.CosmosConnection) return client().database(s.COSMOS_DATABASE).container(spec.id);
      const { database } = await client().databases.createIfNotExists({ id: s.COSMOS_DATABASE });
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

/**
 * Statements in container `activity`, partitioned by learner, document id `<learnerId>:<statement id>`:
 * a statement sent twice is created once (409 counts as a duplicate). A batch of several goes to Cosmos DB as
 * one bulk request (one partition, at most 100 operations: the route's limit).
 */
export function cosmosActivityStore(container: () => Promise<Container>): ActivityStore {
  const documentOf = (learnerId: string, st: StoredStatement) => ({ ...st, id: `${learnerId}:${st.id}`, statementId: st.id });
  return {
    async append(learnerId, statements) {
      const c = await container();
      let accepted = 0;
      let duplicates = 0;
      const createOne = async (st: StoredStatement) => {
        try {
          await c.items.create(documentOf(learnerId, st));
          accepted += 1;
        } catch (err) {
          if ((err as { code?: number }).code === 409) duplicates += 1;
          else throw err;
        }
      };
      if (statements.length === 1) {
        await createOne(statements[0] as StoredStatement);
        return { accepted, duplicates };
      }
      // items.bulk, not executeBulkOperations: the latter holds a partly filled batch back for a second
      // (its batching window), which a request cannot afford.
      const results = await c.items.bulk(
        statements.map((st) => ({ operationType: BulkOperationType.Create, partitionKey: learnerId, resourceBody: documentOf(learnerId, st) })),
        { continueOnError: true },
      );
      const again: StoredStatement[] = [];
      results.forEach((r, i) => {
        if (r.statusCode === 201) accepted += 1;
        else if (r.statusCode === 409) duplicates += 1;
        else again.push(statements[i] as StoredStatement);
      });
      // Anything else (throttled, say) was not applied: one create each, with the SDK's retry policy.
      await Promise.all(again.map(createOne));
      return { accepted, duplicates };
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
  };
}
