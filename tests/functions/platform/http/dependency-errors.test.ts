import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openBlobService } from "../../../../functions/platform/blob.js";
import { openCosmos } from "../../../../functions/platform/cosmos-activity.js";
import { openDatabase } from "../../../../functions/platform/database.js";
import { classifyDependencyError } from "../../../../functions/platform/http/dependency-errors.js";
import { openServiceBus } from "../../../../functions/platform/service-bus.js";
import { databaseSettingsSchema, parseEnv, type Settings } from "../../../../functions/platform/settings.js";
import { devAccountKey, devAccountName } from "@ringlet/local-runtime/azurite";
import { cosmosConnectionString, startCosmosEndpoint, type CosmosEndpoint } from "@ringlet/local-runtime/cosmos";
import { freePort } from "@ringlet/local-runtime/ports";
import { emulatorConnectionString, startServiceBusBroker, type ServiceBusBrokerHandle } from "@ringlet/local-runtime/service-bus";
import { createTestDatabase, type TestDatabase } from "../../../support/database.js";

// Real errors from the real clients, against real services and against ports where nothing listens.
let db: TestDatabase;
let closedPort: number;
let cosmos: CosmosEndpoint;
let broker: ServiceBusBrokerHandle;

beforeAll(async () => {
  [db, closedPort, cosmos, broker] = await Promise.all([
    createTestDatabase(),
    freePort(),
    startCosmosEndpoint({ port: 0 }),
    startServiceBusBroker({ port: 0, entities: { queues: [{ name: "work" }] }, dataDir: "memory" }),
  ]);
  await db.sql`create table parents (id int primary key)`;
  await db.sql`create table children (id int primary key, parent_id int references parents, n int check (n > 0))`;
  await db.sql`insert into parents values (1)`;
});

afterAll(async () => {
  await Promise.allSettled([db?.drop(), cosmos?.stop(), broker?.stop()]);
});

const failure = async (work: () => Promise<unknown>): Promise<unknown> => {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
};

const settings = (values: Partial<Settings>) => values as Settings;

describe("PostgreSQL", () => {
  it("tells the caller's faults (4xx) from a busy server (503)", async () => {
    expect(classifyDependencyError(await failure(() => db.db.execute(sql`insert into parents values (1)`)))).toMatchObject({ kind: "caller", code: "CONFLICT" });
    expect(classifyDependencyError(await failure(() => db.db.execute(sql`insert into children values (1, 2, 1)`)))).toMatchObject({ kind: "caller", code: "CONFLICT" });
    expect(classifyDependencyError(await failure(() => db.db.execute(sql`insert into children values (1, 1, 0)`)))).toMatchObject({ kind: "caller", code: "UNPROCESSABLE" });
    expect(classifyDependencyError(await failure(() => db.db.execute(sql`select ${"a\u0000b"}::text`)))).toMatchObject({ kind: "caller", code: "VALIDATION_FAILED" });
    const timedOut = await failure(() => db.db.transaction(async (tx) => {
      await tx.execute(sql`set local statement_timeout = 50`);
      await tx.execute(sql`select pg_sleep(1)`);
    }));
    expect(classifyDependencyError(timedOut)).toMatchObject({ kind: "unavailable", dependency: "postgres" });
  });

  it("answers 503 for a server that cannot be reached", async () => {
    const unreachable = openDatabase(parseEnv(databaseSettingsSchema, { DATABASE_URL: `postgres://postgres:password@127.0.0.1:${closedPort}/ringlet` }));
    try {
      // Through Drizzle the query names the database; a transaction's begin fails with the bare socket error.
      expect(classifyDependencyError(await failure(() => unreachable.db.execute(sql`select 1`)))).toMatchObject({ kind: "unavailable", dependency: "postgres" });
      expect(classifyDependencyError(await failure(() => unreachable.db.transaction(async () => undefined)))).toMatchObject({ kind: "unavailable" });
    } finally {
      await unreachable.close();
    }
  });
});

describe("Blob Storage", () => {
  it("answers 503 for unreachable storage within about a second, and leaves a missing blob to the caller", async () => {
    const connection = (endpoint: string) => `DefaultEndpointsProtocol=http;AccountName=${devAccountName};AccountKey=${devAccountKey};BlobEndpoint=${endpoint};`;
    const down = openBlobService(settings({ BlobStorage: connection(`http://127.0.0.1:${closedPort}/${devAccountName}`) }));
    const started = Date.now();
    const err = await failure(() => down.getContainerClient("files").getBlobClient("a.pdf").getProperties());
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(classifyDependencyError(err)).toMatchObject({ kind: "unavailable", dependency: "blob" });
    const up = openBlobService(settings({ BlobStorage: inject("storageConnectionString") }));
    expect(classifyDependencyError(await failure(() => up.getContainerClient("no-such-container").getBlobClient("a.pdf").getProperties()))).toBeUndefined();
  });
});

describe("Cosmos DB", () => {
  it("answers 503 for an unreachable endpoint, and leaves a conflict to the caller", async () => {
    const down = await openCosmos(settings({ CosmosConnection: cosmosConnectionString(`https://127.0.0.1:${closedPort}/`) }));
    expect(classifyDependencyError(await failure(() => down.database("d").container("c").items.create({ id: "a" })))).toMatchObject({ kind: "unavailable", dependency: "cosmos" });
    const up = await openCosmos(settings({ CosmosConnection: cosmos.connectionString }));
    const { database } = await up.databases.createIfNotExists({ id: "d" });
    const { container } = await database.containers.createIfNotExists({ id: "c", partitionKey: { paths: ["/id"] } });
    await container.items.create({ id: "a" });
    expect(classifyDependencyError(await failure(() => container.items.create({ id: "a" })))).toBeUndefined();
  });
});

describe("Service Bus", () => {
  it("answers 503 for an unreachable namespace, and leaves a missing entity (our own fault) a 500", async () => {
    const down = openServiceBus(settings({ ServiceBusConnection: emulatorConnectionString("127.0.0.1", closedPort) }));
    const up = openServiceBus(settings({ ServiceBusConnection: broker.connectionString }));
    try {
      expect(classifyDependencyError(await failure(() => down.createSender("work").sendMessages({ body: "x" })))).toMatchObject({ kind: "unavailable", dependency: "service-bus" });
      expect(classifyDependencyError(await failure(() => up.createSender("no-such-queue").sendMessages({ body: "x" })))).toBeUndefined();
    } finally {
      await Promise.allSettled([down.close(), up.close()]);
    }
  });
});

it("leaves errors that are no dependency's to the caller's bug handling", () => {
  expect(classifyDependencyError(new TypeError("x is undefined"))).toBeUndefined();
  expect(classifyDependencyError(Object.assign(new Error("plain"), { code: "ERR_INVALID_ARG_TYPE" }))).toBeUndefined();
  expect(classifyDependencyError(undefined)).toBeUndefined();
});
