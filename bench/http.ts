// bench/http: requests/s and p50/p99 latency of /api/health and a one-query route through the local
// runtime, beside a bare Node HTTP server doing the same work, measured in the same run.
// Usage: npm run bench:http   (BENCH_SECONDS, BENCH_CONNECTIONS to change the load)
import autocannon from "autocannon";
import postgres from "postgres";
import { benchEnvironment, printTable } from "./environment.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);

async function load(url: string, headers: Record<string, string>) {
  const result = await autocannon({ url, connections, duration: seconds, headers });
  const failures = result.errors + result.timeouts + result.non2xx;
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, failures };
}

const bench = await benchEnvironment();
try {
  const sql = postgres(bench.databaseUrl, { max: 1, onnotice: () => {} });
  // A backlog row so the one-query route has something to count.
  await sql`insert into outbox (id, type, aggregate_type, aggregate_id, occurred_at, data) values (gen_random_uuid(), 'bench.event', 'bench', '1', now(), '{}')`;
  const runtime = await bench.serve(["dist/local/cli.js", "start"], "/api/health");
  const bare = await bench.serve(["--import", "tsx", "bench/bare-server.ts"], "/api/health");

  // The outbox route is admin-only: sign in as an admin once and send the token with every request.
  const email = "bench-admin@example.test";
  const password = "Bench-password-0123";
  await fetch(`${runtime}/api/v1/auth/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password, displayName: "Bench" }) });
  await sql`update users set is_admin = true where email = ${email}`;
  await sql.end();
  const login = (await (await fetch(`${runtime}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }) })).json()) as { accessToken: string };
  const headers = { authorization: `Bearer ${login.accessToken}` };

  const rows: string[][] = [];
  for (const path of ["/api/health", "/api/v1/ops/outbox"]) {
    // Warm both (JIT, pools) before measuring.
    await autocannon({ url: `${runtime}${path}`, connections, amount: 500, headers });
    await autocannon({ url: `${bare}${path}`, connections, amount: 500 });
    const floor = await load(`${bare}${path}`, {});
    const app = await load(`${runtime}${path}`, headers);
    rows.push([path, "bare node (floor)", floor.rps.toFixed(0), `${floor.p50} ms`, `${floor.p99} ms`, String(floor.failures), "1.00x"]);
    rows.push([path, "local runtime", app.rps.toFixed(0), `${app.p50} ms`, `${app.p99} ms`, String(app.failures), `${(app.rps / floor.rps).toFixed(2)}x`]);
  }
  console.log(`\nbench/http: ${connections} connections, ${seconds} s per measurement, node ${process.version}`);
  console.log("(the runtime's outbox route also verifies the JWT and reads the caller's role: 2 queries to the floor's 1)\n");
  printTable(["route", "server", "req/s", "p50", "p99", "failed", "of floor"], rows);
} finally {
  await bench.close();
}
