// bench/http: requests/s and p50/p99 latency of /api/health and a one-query route through the local
// runtime, beside a bare Node HTTP server doing the same work, measured in the same run.
// Usage: npm run bench:http   (BENCH_SECONDS, BENCH_CONNECTIONS to change the load)
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import postgres from "postgres";
import { startAzurite } from "../local/services/azurite.js";
import { freePort } from "../local/services/ports.js";
import { startEmbeddedPostgres } from "../local/services/postgres.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

function serve(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
}

async function load(url: string) {
  const result = await autocannon({ url, connections, duration: seconds });
  const failures = result.errors + result.timeouts + result.non2xx;
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, failures };
}

const dir = await mkdtemp(join(tmpdir(), "ringlet-bench-"));
await chmod(dir, 0o755);
const [pg, azurite] = await Promise.all([
  startEmbeddedPostgres({ dataDir: join(dir, "pg"), database: "ringlet_bench" }),
  startAzurite({ location: "memory", blobPort: 0, queuePort: 0, tablePort: 0 }),
]);
const servers: ChildProcess[] = [];
try {
  const migrate = spawn(process.execPath, ["dist/functions/platform/commands/migrate.js"], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: pg.url },
    stdio: "inherit",
  });
  await new Promise((resolve, reject) => migrate.on("exit", (code) => (code === 0 ? resolve(null) : reject(new Error("migrate failed")))));
  // A realistic backlog row so the one-query route has something to count.
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  await sql`insert into outbox (id, type, aggregate_type, aggregate_id, occurred_at, data) values (gen_random_uuid(), 'bench.event', 'bench', '1', now(), '{}')`;
  await sql.end();

  const env = { DATABASE_URL: pg.url, BlobStorage: azurite.connectionString, AzureWebJobsStorage: azurite.connectionString, LOG_LEVEL: "warn" };
  const runtimePort = await freePort();
  const barePort = await freePort();
  const runtime = serve(["dist/local/cli.js", "start"], { ...env, PORT: String(runtimePort)});
  const bare = serve(["--import", "tsx", "bench/bare-server.ts"], { ...env, PORT: String(barePort) });
  servers.push(runtime, bare);
  await Promise.all([
    waitFor(`http://127.0.0.1:${runtimePort}/api/health`, runtime),
    waitFor(`http://127.0.0.1:${barePort}/api/health`, bare),
  ]);

  const rows: string[][] = [];
  for (const path of ["/api/health", "/api/v1/ops/outbox"]) {
    // Warm both (JIT, pools) before measuring.
    await autocannon({ url: `http://127.0.0.1:${runtimePort}${path}`, connections, amount: 500 });
    await autocannon({ url: `http://127.0.0.1:${barePort}${path}`, connections, amount: 500 });
    const floor = await load(`http://127.0.0.1:${barePort}${path}`);
    const app = await load(`http://127.0.0.1:${runtimePort}${path}`);
    for (const [name, r] of [["bare node (floor)", floor], ["local runtime", app]] as const) {
      rows.push([path, name, r.rps.toFixed(0), `${r.p50} ms`, `${r.p99} ms`, String(r.failures), name === "local runtime" ? `${(r.rps / floor.rps).toFixed(2)}x` : "1.00x"]);
    }
  }
  const header = ["route", "server", "req/s", "p50", "p99", "failed", "of floor"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  console.log(`\nbench/http: ${connections} connections, ${seconds} s per measurement, node ${process.version}\n`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
} finally {
  for (const s of servers) s.kill("SIGTERM");
  await Promise.all(servers.map((s) => new Promise((r) => (s.exitCode !== null ? r(null) : s.once("exit", r)))));
  await Promise.allSettled([azurite.stop(), pg.stop()]);
  await rm(dir, { recursive: true, force: true });
}
