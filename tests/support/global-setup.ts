import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { runMigrations } from "../../functions/platform/migrations.js";
import { databaseSettingsSchema, parseEnv } from "../../functions/platform/settings.js";
import { startAzurite } from "@ringlet/local-runtime/azurite";
import { startEmbeddedPostgres } from "@ringlet/local-runtime/postgres";

export const TEMPLATE_DATABASE = "ringlet_template";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
    storageConnectionString: string;
  }
}

interface SharedServices {
  postgresUrl: string;
  storageConnectionString: string;
  stop(): Promise<void>;
}

/**
 * The services of the run, kept on globalThis: vitest runs each project's global setup in turn in its one main
 * process, so the `ringlet`, `ringlet-app` and `ringlet-domain` projects share one PostgreSQL, one Azurite and one
 * migrated template instead of starting one of each per project before any test runs. The last teardown stops them.
 */
const shared = globalThis as typeof globalThis & { ringletTestServices?: { started: Promise<SharedServices>; users: number } };

/**
 * One PostgreSQL server and one Azurite for the whole run. The template database is migrated once;
 * each test file clones it (CREATE DATABASE ... TEMPLATE), which takes milliseconds.
 */
export default async function setup(project: TestProject) {
  shared.ringletTestServices ??= { started: startServices(), users: 0 };
  const entry = shared.ringletTestServices;
  entry.users += 1;
  const services = await entry.started;
  project.provide("postgresUrl", services.postgresUrl);
  project.provide("storageConnectionString", services.storageConnectionString);

  return async () => {
    entry.users -= 1;
    if (entry.users > 0) return;
    shared.ringletTestServices = undefined;
    await services.stop();
  };
}

async function startServices(): Promise<SharedServices> {
  const dir = await mkdtemp(join(tmpdir(), "ringlet-test-"));
  // PostgreSQL runs as the `postgres` OS user, which must be able to reach its data directory.
  await chmod(dir, 0o755);
  const [pg, azurite] = await Promise.all([
    startEmbeddedPostgres({ dataDir: join(dir, "postgres"), database: "postgres" }),
    startAzurite({ location: "memory", blobPort: 0, queuePort: 0, tablePort: 0 }),
  ]);

  const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
  // A throwaway cluster (deleted at the end, never crashed on purpose: the fault tests stop clusters of their own):
  // no fsync. Every test file clones a database and drops it, and DROP DATABASE waits for a checkpoint, which
  // with fsync on took 1.1-1.5 s each under a loaded machine (0.08 s off); a clone took 0.35-0.9 s (0.12-0.24 s).
  for (const setting of ["fsync", "full_page_writes", "synchronous_commit"]) await admin.unsafe(`alter system set ${setting} = off`);
  await admin`select pg_reload_conf()`;
  for (let i = 0; i < 100 && (await admin<{ fsync: string }[]>`show fsync`)[0]?.fsync !== "off"; i++) await new Promise((r) => setTimeout(r, 20));
  await admin.unsafe(`drop database if exists ${TEMPLATE_DATABASE}`);
  await admin.unsafe(`create database ${TEMPLATE_DATABASE}`);
  await admin.end();
  const templateUrl = withDatabase(pg.url, TEMPLATE_DATABASE);
  await runMigrations(parseEnv(databaseSettingsSchema, { DATABASE_URL: templateUrl }));

  return {
    postgresUrl: pg.url,
    storageConnectionString: azurite.connectionString,
    stop: async () => {
      await Promise.allSettled([azurite.stop(), pg.stop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
