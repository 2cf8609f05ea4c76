import https from "node:https";
import { CosmosClient, type Container, type ItemDefinition } from "@azure/cosmos";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cosmosEmulatorKey, startCosmosEndpoint, type CosmosEndpoint } from "../src/services/cosmos.js";
import { copyFixture, freePort, startRuntime, type RunningRuntime } from "./runtime-harness.js";

interface Progress extends ItemDefinition {
  id: string;
  playerId: string;
  level: number;
  score: number;
}

describe("startCosmosEndpoint with @azure/cosmos", () => {
  let cosmos: CosmosEndpoint;
  let client: CosmosClient;
  let container: Container;
  // Accepts the self-signed certificate for this client only; TLS stays on everywhere else.
  const agent = new https.Agent({ rejectUnauthorized: false });

  beforeAll(async () => {
    cosmos = await startCosmosEndpoint({ port: 0 });
    client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, agent });
  });
  afterAll(async () => {
    client?.dispose();
    agent.destroy();
    await cosmos?.stop();
  });

  it("reports a loopback HTTPS endpoint, the emulator key and a matching connection string", () => {
    expect(cosmos.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    expect(cosmos.port).toBeGreaterThan(0);
    expect(cosmos.endpoint).toBe(`https://127.0.0.1:${cosmos.port}/`);
    expect(cosmos.key).toBe(cosmosEmulatorKey);
    expect(cosmos.key).toBe("C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==");
    expect(cosmos.connectionString).toBe(`AccountEndpoint=https://127.0.0.1:${cosmos.port}/;AccountKey=${cosmosEmulatorKey};`);
  });

  it("creates a database and a container partitioned by /playerId", async () => {
    const { database } = await client.databases.createIfNotExists({ id: "fixture" });
    const created = await database.containers.createIfNotExists({ id: "progress", partitionKey: { paths: ["/playerId"] } });
    container = created.container;
    const { resource } = await container.read();
    expect(resource?.partitionKey?.paths).toEqual(["/playerId"]);
    // Idempotent: a second createIfNotExists finds the same container.
    const again = await database.containers.createIfNotExists({ id: "progress", partitionKey: { paths: ["/playerId"] } });
    expect(again.resource?.id).toBe("progress");
  });

  it("upserts idempotently by id and point-reads", async () => {
    const item: Progress = { id: "ada-1", playerId: "ada", level: 1, score: 10 };
    await container.items.upsert(item);
    await container.items.upsert({ ...item, score: 42 });
    const { resources: all } = await container.items
      .query<Progress>({ query: "SELECT * FROM c WHERE c.id = @id", parameters: [{ name: "@id", value: "ada-1" }] })
      .fetchAll();
    expect(all).toHaveLength(1);
    const { resource, statusCode } = await container.item("ada-1", "ada").read<Progress>();
    expect(statusCode).toBe(200);
    expect(resource).toMatchObject({ id: "ada-1", playerId: "ada", level: 1, score: 42 });
    const missing = await container.item("nobody", "ada").read<Progress>();
    expect(missing.statusCode).toBe(404);
    expect(missing.resource).toBeUndefined();
  });

  it("runs a parameterized ORDER BY query and pages it with continuation tokens", async () => {
    for (let level = 2; level <= 7; level++) {
      // Inserted out of order so ORDER BY matters.
      const score = (level * 37) % 11;
      await container.items.upsert<Progress>({ id: `ada-${level}`, playerId: "ada", level, score });
    }
    await container.items.upsert<Progress>({ id: "bob-1", playerId: "bob", level: 1, score: 99 });

    const querySpec = {
      query: "SELECT * FROM c WHERE c.playerId = @player AND c.level >= @from ORDER BY c.score DESC",
      parameters: [
        { name: "@player", value: "ada" },
        { name: "@from", value: 1 },
      ],
    };
    const { resources: expected } = await container.items.query<Progress>(querySpec).fetchAll();
    expect(expected).toHaveLength(7);
    expect(expected.every((p) => p.playerId === "ada")).toBe(true);
    const scores = expected.map((p) => p.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    const iterator = container.items.query<Progress>(querySpec, { maxItemCount: 3, partitionKey: "ada" });
    const pages: Progress[][] = [];
    const tokens: (string | undefined)[] = [];
    while (iterator.hasMoreResults()) {
      const page = await iterator.fetchNext();
      if (page.resources.length > 0) pages.push(page.resources);
      tokens.push(page.continuationToken);
    }
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat().map((p) => p.id)).toEqual(expected.map((p) => p.id));
    expect(tokens[0]).toBeTruthy();

    // A page can be resumed from its continuation token by a new iterator.
    const first = await container.items.query<Progress>(querySpec, { maxItemCount: 3, partitionKey: "ada" }).fetchNext();
    expect(first.continuationToken).toBeTruthy();
    const resumed = await container.items
      .query<Progress>(querySpec, { maxItemCount: 3, partitionKey: "ada", continuationToken: first.continuationToken })
      .fetchNext();
    expect(resumed.resources.map((p) => p.id)).toEqual(expected.slice(3, 6).map((p) => p.id));
  });

  it("stops: the port no longer answers", async () => {
    const probe = await startCosmosEndpoint({ port: 0 });
    await probe.stop();
    await probe.stop();
    const probeAgent = new https.Agent({ rejectUnauthorized: false });
    const probeClient = new CosmosClient({ endpoint: probe.endpoint, key: probe.key, agent: probeAgent, connectionPolicy: { retryOptions: { maxRetryAttemptCount: 0, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 1 } } });
    try {
      await expect(probeClient.databases.readAll().fetchAll()).rejects.toThrow();
    } finally {
      probeClient.dispose();
      probeAgent.destroy();
    }
  });
});

describe("runtime with UseDevelopmentCosmos=true", () => {
  let runtime: RunningRuntime;
  let cosmosPort: number;

  beforeAll(async () => {
    cosmosPort = await freePort();
    runtime = await startRuntime({ appRoot: copyFixture("cosmos-app"), env: { LOCAL_COSMOS_PORT: String(cosmosPort) } });
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it("starts an endpoint and replaces the setting with its connection string before the app loads", async () => {
    expect(runtime.output()).toContain(`Cosmos DB endpoint started: https://127.0.0.1:${cosmosPort}/ (COSMOS;`);
    const response = await fetch(`${runtime.baseUrl}/api/cosmos-setting`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      local: true,
      value: `AccountEndpoint=https://127.0.0.1:${cosmosPort}/;AccountKey=${cosmosEmulatorKey};`,
    });
  });
});
