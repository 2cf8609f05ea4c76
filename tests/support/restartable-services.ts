import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RetryMode, ServiceBusClient } from "@azure/service-bus";
import { createHttpsServer } from "@vercel/cosmosdb-server";
import { openDatabase } from "../../functions/platform/database.js";
import { runMigrations } from "../../functions/platform/migrations.js";
import { databaseSettingsSchema, parseEnv } from "../../functions/platform/settings.js";
import { startAzurite } from "@ringlet/local-runtime/azurite";
import { cosmosConnectionString } from "@ringlet/local-runtime/cosmos";
import { freePort } from "@ringlet/local-runtime/ports";
import { startEmbeddedPostgres } from "@ringlet/local-runtime/postgres";
import { emulatorConnectionString, startServiceBusBroker } from "@ringlet/local-runtime/service-bus";
import { repoRoot } from "./app.js";
import type { TestDatabase } from "./database.js";

/**
 * Backing services of a fault test's own, started with the helpers the local runtime uses, that the test can
 * stop and start again on the same port and data: the shared test PostgreSQL and Azurite serve other test
 * files in parallel and must never go down.
 */
export interface Restartable {
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A directory the `postgres` OS user can reach (PostgreSQL runs as it when the tests run as root). */
export async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

/** An embedded PostgreSQL with its own data directory and port, migrated, and a pool on it as `TestDatabase`. */
export async function ownPostgres(dir: string): Promise<Restartable & { db: TestDatabase }> {
  const dataDir = join(dir, "postgres");
  let server = await startEmbeddedPostgres({ dataDir, database: "ringlet" });
  const port = server.port;
  const settings = parseEnv(databaseSettingsSchema, { DATABASE_URL: server.url });
  await runMigrations(settings);
  const handle = openDatabase(settings, { max: 2 });
  const db: TestDatabase = {
    ...handle,
    url: server.url,
    name: "ringlet",
    drop: async () => {
      await handle.close();
      await server.stop();
    },
  };
  return {
    db,
    stop: () => server.stop(),
    start: async () => {
      server = await startEmbeddedPostgres({ dataDir, port, database: "ringlet" });
    },
  };
}

/** Azurite with its data on disk (so blobs outlive a restart) on fixed ports. */
export async function ownAzurite(dir: string): Promise<Restartable & { connectionString: string }> {
  const location = join(dir, "azurite");
  const ports = { blobPort: await freePort(), queuePort: await freePort(), tablePort: await freePort() };
  let azurite = await startAzurite({ location, ...ports });
  return {
    connectionString: azurite.connectionString,
    stop: () => azurite.stop(),
    start: async () => {
      azurite = await startAzurite({ location, ...ports });
    },
  };
}

/**
 * The broker with its messages on disk, on a fixed port, from an entity file that adds an unfiltered `probe`
 * subscription to the topic: the test reads it to see every event the relay published, by event id.
 */
export async function ownBroker(dir: string, topic = "lms-events"): Promise<Restartable & { connectionString: string; entitiesFile: string }> {
  const declarations = JSON.parse(await readFile(join(repoRoot, "bicep", "servicebus-entities.json"), "utf8")) as {
    topics: { name: string; subscriptions: { name: string; lockDuration?: string; maxDeliveryCount?: number }[] }[];
  };
  declarations.topics.find((t) => t.name === topic)?.subscriptions.push({ name: "probe", lockDuration: "PT1M", maxDeliveryCount: 10 });
  const entitiesFile = join(dir, "servicebus-entities.json");
  await writeFile(entitiesFile, JSON.stringify(declarations));
  const dataDir = join(dir, "servicebus");
  const port = await freePort();
  const start = () => startServiceBusBroker({ port, entities: entitiesFile, dataDir });
  let broker = await start();
  return {
    connectionString: emulatorConnectionString("127.0.0.1", port),
    entitiesFile,
    stop: () => broker.stop(),
    start: async () => {
      broker = await start();
    },
  };
}

/**
 * The local Cosmos DB endpoint (the server `@ringlet/local-runtime/cosmos` runs) that can be stopped and started
 * again on the same address with its data, as a real account's would be. That server builds a fresh, empty
 * account whenever it starts listening; once the first one exists, that hook is dropped, so listening again
 * serves the same account.
 */
export async function ownCosmos(): Promise<Restartable & { connectionString: string }> {
  const server: Server = createHttpsServer({ keepAlive: true });
  const port = await freePort();
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen();
  server.removeAllListeners("listening");
  return {
    connectionString: cosmosConnectionString(`https://127.0.0.1:${port}/`),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Kept-alive connections would hold the close open and keep serving the app.
        server.closeAllConnections();
      }),
    start: listen,
  };
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** Every message on the broker's `probe` subscription, counted by message id (the event id). */
export function probeSubscription(connectionString: string, topic = "lms-events"): { counts: Map<string, number>; close(): Promise<void> } {
  const counts = new Map<string, number>();
  // Reconnects within a second or so of the broker's return (the SDK's default waits 30 s between tries).
  const client = new ServiceBusClient(connectionString, { retryOptions: { mode: RetryMode.Exponential, retryDelayInMs: 250, maxRetryDelayInMs: 2_000 } });
  const receiver = client.createReceiver(topic, "probe");
  receiver.subscribe({
    // Peek-lock, completed on return: every copy the subscription holds is counted once.
    processMessage: async (m) => {
      const id = String(m.messageId);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    },
    // The broker going away is what the fault tests do; the SDK reconnects by itself.
    processError: async () => undefined,
  });
  return {
    counts,
    close: async () => {
      await receiver.close();
      await client.close();
    },
  };
}

/**
 * What a runtime killed with SIGKILL and started again must find: Durable instances and the broker's messages on
 * disk, and the broker on a port of its own (the runtime starts it; the connection names the port). Pass `env` to
 * every start; `remove()` deletes the directories.
 */
export async function persistentRuntimeState(): Promise<{ env: Record<string, string>; remove(): Promise<void> }> {
  const durableDir = await mkdtemp(join(tmpdir(), "ringlet-durable-"));
  const busDir = await scratchDir("ringlet-bus-");
  const busConnection = `Endpoint=sb://127.0.0.1:${await freePort()};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`;
  return {
    env: { LOCAL_DURABLE_DATA: durableDir, LOCAL_SERVICEBUS_DATA: busDir, ServiceBusConnection: busConnection },
    remove: async () => {
      for (const dir of [durableDir, busDir]) await rm(dir, { recursive: true, force: true });
    },
  };
}
