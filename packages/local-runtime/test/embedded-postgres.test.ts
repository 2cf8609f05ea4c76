import path from "node:path";
import { readFileSync } from "node:fs";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../src/services/postgres.js";
import { copyFixture, isProcessAlive, startRuntime, waitUntil } from "./runtime-harness.js";

const postmasterPid = (appRoot: string): number =>
  Number(readFileSync(path.join(appRoot, ".local-data/postgres/postmaster.pid"), "utf8").split("\n")[0]);

async function databaseUrl(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/settings?names=DATABASE_URL`);
  return ((await res.json()) as { DATABASE_URL: string }).DATABASE_URL;
}

describe("embedded PostgreSQL in the local runtime", () => {
  it("starts when DATABASE_URL is empty, keeps data across restarts and leaves no server behind", async () => {
    const appRoot = copyFixture();
    const first = await startRuntime({ appRoot, env: { DATABASE_URL: "" }, timeoutMs: 60_000 });
    let pid: number;
    try {
      const url = await databaseUrl(first.baseUrl);
      expect(url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/local_app$/);
      const sql = postgres(url, { max: 1, onnotice: () => undefined });
      await sql`create table kept (value text)`;
      await sql`insert into kept values ('survives restarts')`;
      await sql.end();
      pid = postmasterPid(appRoot);
      expect(isProcessAlive(pid)).toBe(true);
    } finally {
      expect(await first.stop("SIGTERM")).toBe(0);
    }
    expect(isProcessAlive(pid)).toBe(false);

    const second = await startRuntime({ appRoot, env: { DATABASE_URL: "" }, timeoutMs: 60_000 });
    try {
      const url = await databaseUrl(second.baseUrl);
      const sql = postgres(url, { max: 1 });
      expect(await sql`select value from kept`).toEqual([{ value: "survives restarts" }]);
      await sql.end();

      // A second process (e.g. `npm run db:migrate` while `npm start` runs) shares the running server.
      const shared = await startEmbeddedPostgres({ dataDir: path.join(appRoot, ".local-data/postgres"), database: "local_app" });
      expect(shared.reused).toBe(true);
      expect(shared.url).toBe(url);
      await shared.stop();
      pid = postmasterPid(appRoot);
      expect(isProcessAlive(pid)).toBe(true);
    } finally {
      expect(await second.stop("SIGTERM")).toBe(0);
    }
    await waitUntil(() => !isProcessAlive(pid), 5000);
  });
});
