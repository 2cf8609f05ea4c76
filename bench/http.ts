// bench/http: requests/s and p50/p99 latency of /api/health and a one-query route through the local
// runtime, beside a bare Node HTTP server doing the same work, measured in the same run.
// Usage: npm run bench:http   (BENCH_SECONDS, BENCH_CONNECTIONS to change the load; BENCH_RUNTIME_NODE_ARGS, see below)
//
// Measures only what it names: nothing else runs in the app during a measurement (the outbox has no
// unpublished row, so no relay pass or subscription works in the background), and each route gets only the
// headers its floor gets (the token goes to the admin route alone: a token on /api/health would be verified,
// which is a different measurement). On Linux it also reports CPU time per request of each server process,
// which a shared, busy machine distorts far less than requests/s.
import { readFileSync, readdirSync } from "node:fs";
import autocannon from "autocannon";
import postgres from "postgres";
import { type BenchFigure, benchEnvironment, printTable, recordResults, runtimeCli } from "./environment.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
// Extra node flags for the runtime only, e.g. BENCH_RUNTIME_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
const runtimeNodeArgs = (process.env.BENCH_RUNTIME_NODE_ARGS ?? "").split(" ").filter(Boolean);

interface Routes {
  path: string;
  /** The issue-12 target for the runtime's requests/s as a share of the floor's; "" when there is none. */
  target: string;
  admin: boolean;
}
const routes: Routes[] = [
  { path: "/api/health", target: ">= 0.25x", admin: false },
  { path: "/api/v1/ops/outbox", target: "", admin: true },
];

async function load(url: string, headers: Record<string, string>, pid: number | undefined) {
  const cpuBefore = cpuMs(pid);
  const result = await autocannon({ url, connections, duration: seconds, headers });
  const cpu = cpuMs(pid);
  const failures = result.errors + result.timeouts + result.non2xx;
  const cpuPerRequestUs = cpu === undefined || cpuBefore === undefined || result.requests.total === 0 ? undefined : ((cpu - cpuBefore) * 1000) / result.requests.total;
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, failures, cpuPerRequestUs };
}

/** The pid of this process's child whose command line contains `marker` (Linux /proc; undefined elsewhere). */
function childPid(marker: string): number | undefined {
  try {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker)) return Number(entry);
      } catch {
        // the process ended while we looked
      }
    }
  } catch {
    // no /proc
  }
  return undefined;
}

/** User + system CPU time of a process in ms (clock ticks of 10 ms, the Linux default). */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

const bench = await benchEnvironment();
try {
  const sql = postgres(bench.databaseUrl, { max: 1, onnotice: () => {} });
  // The outbox route counts the unpublished backlog; a row already published keeps the table non-empty
  // without giving the relay (and every subscription) something to work on while we measure.
  await sql`insert into outbox (id, type, aggregate_type, aggregate_id, occurred_at, data, published_at) values (gen_random_uuid(), 'bench.event', 'bench', '1', now(), '{}', now())`;
  const runtime = await bench.serve([...runtimeNodeArgs, runtimeCli, "start"], "/api/health");
  const bare = await bench.serve(["--import", "tsx", "bench/bare-server.ts"], "/api/health");
  const runtimePid = childPid(runtimeCli);
  const barePid = childPid("bench/bare-server.ts");

  // The outbox route is admin-only: sign in as an admin once and send the token with its requests.
  const email = "bench-admin@example.test";
  const password = "Bench-password-0123";
  await fetch(`${runtime}/api/v1/auth/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password, displayName: "Bench" }) });
  await sql`update users set is_admin = true where email = ${email}`;
  await sql.end();
  const login = (await (await fetch(`${runtime}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }) })).json()) as { accessToken: string };
  const adminHeaders = { authorization: `Bearer ${login.accessToken}` };

  const rows: string[][] = [];
  const figures: BenchFigure[] = [];
  const us = (n: number | undefined) => (n === undefined ? "-" : `${n.toFixed(0)} µs`);
  for (const { path, target, admin } of routes) {
    const headers = admin ? adminHeaders : {};
    // Warm both (JIT, pools) before measuring: the runtime's deeper stack needs a few thousand requests before
    // V8 has optimised it, which a short (--quick) measurement would otherwise count.
    await autocannon({ url: `${runtime}${path}`, connections, amount: 3000, headers });
    await autocannon({ url: `${bare}${path}`, connections, amount: 3000 });
    const floor = await load(`${bare}${path}`, {}, barePid);
    const app = await load(`${runtime}${path}`, headers, runtimePid);
    rows.push([path, "bare node (floor)", floor.rps.toFixed(0), `${floor.p50} ms`, `${floor.p99} ms`, String(floor.failures), us(floor.cpuPerRequestUs), "1.00x"]);
    rows.push([path, "local runtime", app.rps.toFixed(0), `${app.p50} ms`, `${app.p99} ms`, String(app.failures), us(app.cpuPerRequestUs), `${(app.rps / floor.rps).toFixed(2)}x`]);
    figures.push({ measure: `GET ${path} through the local runtime`, value: Math.round(app.rps), unit: "req/s", floor: Math.round(floor.rps), target });
    if (app.cpuPerRequestUs !== undefined && floor.cpuPerRequestUs !== undefined) {
      // Reported without a verdict: how much CPU one request costs, next to the floor's (lower is better).
      figures.push({ measure: `GET ${path} CPU per request (runtime process)`, value: Math.round(app.cpuPerRequestUs), unit: "µs", floor: Math.round(floor.cpuPerRequestUs) });
    }
    figures.push({ measure: `GET ${path} failed requests`, value: app.failures, unit: "requests", target: "= 0" });
  }
  console.log(`\nbench/http: ${connections} connections, ${seconds} s per measurement, node ${process.version}`);
  console.log("(the runtime's outbox route also verifies the JWT and reads the caller's role: 2 queries to the floor's 1)\n");
  printTable(["route", "server", "req/s", "p50", "p99", "failed", "cpu/req", "of floor"], rows);
  recordResults("http", figures);
} finally {
  await bench.close();
}
