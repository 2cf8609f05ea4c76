// bench/activity: statements/s accepted by POST /api/v1/activity in batches of 1 and 50, with p95 latency,
// beside a floor of the same Cosmos writes made directly through the SDK in the same run. The local Cosmos
// endpoint runs in a process of its own and requests go out through a plain kept-alive node:http agent, so the
// load generator costs as little as it can and shares no thread with either side's server.
// Usage: npm run bench:activity   (BENCH_STATEMENTS, BENCH_CONCURRENCY, BENCH_BATCHES (1,50); BENCH_PROFILE_DIR=<dir>
// writes a CPU profile of the runtime there when it stops)
import { spawn } from "node:child_process";
import { Agent as HttpAgent, request } from "node:http";
import { Agent } from "node:https";
import { CosmosClient } from "@azure/cosmos";
import postgres from "postgres";
import { v7 as uuidv7 } from "uuid";
import { benchEnvironment, type BenchFigure, mintAccessToken, percentile, printTable, processCpuMs, recordResults, root, runtimeCli } from "./environment.js";

const total = Number(process.env.BENCH_STATEMENTS ?? 2000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 10);
const profileDir = process.env.BENCH_PROFILE_DIR;
const batches = (process.env.BENCH_BATCHES ?? "1,50").split(",").map(Number);
const warmup = 100;

const statement = (n: number, lessonId: string) => ({ id: `b-${n}`, verb: "viewed", object: { type: "lesson", id: lessonId }, timestamp: new Date().toISOString() });

async function run(requests: number, send: (i: number) => Promise<void>): Promise<{ wallMs: number; times: number[] }> {
  const times: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        const t = performance.now();
        await send(i);
        times.push(performance.now() - t);
      }
    }),
  );
  return { wallMs: performance.now() - started, times: times.sort((a, b) => a - b) };
}

const endpoint = spawn(process.execPath, ["--import", "tsx", "bench/cosmos-endpoint.ts"], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
const endpointExited = new Promise((resolve) => endpoint.once("exit", resolve));
const cosmos = {
  connectionString: await new Promise<string>((resolve, reject) => {
    let out = "";
    endpoint.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")).trim());
    });
    void endpointExited.then((code) => reject(new Error(`the Cosmos endpoint exited with ${String(code)}`)));
  }),
};
const bench = await benchEnvironment();
try {
  const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const base = await bench.serve([...profile, runtimeCli, "start"], "/api/health", { CosmosConnection: cosmos.connectionString });
  const sql = postgres(bench.databaseUrl, { max: 1, onnotice: () => {} });
  const userId = uuidv7();
  await sql`insert into users (id, email, display_name) values (${userId}, ${`bench-${userId}@example.test`}, 'Bench')`;
  // An enrolled learner viewing a real lesson, so each batch also resolves the course and marks the active day.
  const [courseId, moduleId, lessonId] = [uuidv7(), uuidv7(), uuidv7()];
  await sql`insert into courses (id, title, status) values (${courseId}, 'Bench course', 'published')`;
  await sql`insert into modules (id, course_id, title, position) values (${moduleId}, ${courseId}, 'Bench module', 1)`;
  await sql`insert into lessons (id, module_id, course_id, title, kind, position, body) values (${lessonId}, ${moduleId}, ${courseId}, 'Bench lesson', 'text', 1, 'x')`;
  await sql`insert into enrollments (id, course_id, user_id, status, source) values (${uuidv7()}, ${courseId}, ${userId}, 'active', 'self')`;
  await sql.end();
  const token = await mintAccessToken(userId);
  // CPU of every process either side uses (this one: load generator or SDK client; the endpoint; the runtime; PostgreSQL),
  // the same set for the floor and the app, so idle background work weighs on both alike. NaN without /proc.
  const runtimePid = bench.pidOf(base);
  const cpuSplit = () => {
    const own = process.cpuUsage();
    return [(own.user + own.system) / 1000, processCpuMs(endpoint.pid) ?? NaN, processCpuMs(runtimePid) ?? NaN, processCpuMs(bench.postgresPid, true) ?? NaN] as const;
  };
  const cpuMs = () => cpuSplit().reduce((a, b) => a + b, 0);
  /** Waits (10 s at most) until the runtime is idle: its start-up and the previous phase's leftovers are not measured. */
  const quiet = async () => {
    for (let waited = 0, last = processCpuMs(runtimePid); waited < 10_000 && last !== undefined; waited += 250) {
      await new Promise((r) => setTimeout(r, 250));
      const now = processCpuMs(runtimePid) as number;
      if (now - last <= 10) return;
      last = now;
    }
  };
  const split: string[][] = [];
  /** CPU per statement of each process over `phase`, for the printed breakdown. */
  const splitOver = async <T>(name: string, statements: number, phase: () => Promise<T>): Promise<T> => {
    const before = cpuSplit();
    const result = await phase();
    const after = cpuSplit();
    split.push([name, ...after.map((v, i) => `${Math.round(((v - (before[i] as number)) * 1000) / statements)} µs`)]);
    return result;
  };
  const rows: string[][] = [];
  const measured: { batch: number; perSecond: number; p95: number; cpuPerStatementUs: number }[] = [];
  let offset = 0;
  const agent = new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const send = (statements: ReturnType<typeof statement>[]) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ statements });
      const headers = { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) };
      const req = request(`${base}/api/v1/activity`, { method: "POST", agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => (res.statusCode === 202 ? resolve() : reject(new Error(`answered ${res.statusCode}: ${Buffer.concat(chunks).toString()}`))));
      });
      req.on("error", reject);
      req.end(body);
    });
  // Both sides warmed (JIT, connections, the containers opened) before either is measured; these are not counted.
  const client = new CosmosClient({ connectionString: cosmos.connectionString, agent: new Agent({ rejectUnauthorized: false, keepAlive: true }) });
  const { database } = await client.databases.createIfNotExists({ id: "bench-floor" });
  const { container } = await database.containers.createIfNotExists({ id: "activity", partitionKey: { paths: ["/learnerId"] } });
  await run(warmup, (i) => send([statement(-1 - i, lessonId)]));
  await run(warmup, async (i) => void (await container.items.create({ ...statement(i, lessonId), id: `${userId}:w-${i}`, learnerId: userId })));
  // The floor: the same creates straight through the SDK, one statement per call, with the app's client
  // settings for a loopback endpoint (self-signed certificate, connections kept alive). Half before the app's
  // measurements and half after, so that a change in the machine's load during the run weighs on both sides.
  const floorTimes: number[] = [];
  let floorWallMs = 0;
  let floorCpuMs = 0;
  const measureFloor = async (from: number, count: number) => {
    await quiet();
    const cpuBefore = cpuMs();
    const r = await splitOver(`floor, ${from === 0 ? "first" : "second"} half`, count, () => run(count, async (i) => void (await container.items.create({ ...statement(from + i, lessonId), id: `${userId}:f-${from + i}`, learnerId: userId }))));
    floorCpuMs += cpuMs() - cpuBefore;
    floorTimes.push(...r.times);
    floorWallMs += r.wallMs;
  };
  await measureFloor(0, Math.floor(total / 2));
  for (const batch of batches) {
    const requests = Math.max(1, Math.floor(total / batch));
    await quiet();
    const cpuBefore = cpuMs();
    const r = await splitOver(`POST /api/v1/activity, batch ${batch}`, requests * batch, () =>
      run(requests, async (i) => {
        await send(Array.from({ length: batch }, (_, k) => statement(offset + i * batch + k, lessonId)));
      }),
    );
    const cpuPerStatementUs = ((cpuMs() - cpuBefore) * 1000) / (requests * batch);
    offset += requests * batch;
    measured.push({ batch, perSecond: ((requests * batch) / r.wallMs) * 1000, p95: percentile(r.times, 95), cpuPerStatementUs });
    rows.push([`POST /api/v1/activity, batch ${batch}`, String(requests * batch), (((requests * batch) / r.wallMs) * 1000).toFixed(0), `${percentile(r.times, 50).toFixed(1)} ms`, `${percentile(r.times, 95).toFixed(1)} ms`]);
  }
  await measureFloor(Math.floor(total / 2), total - Math.floor(total / 2));
  floorTimes.sort((a, b) => a - b);
  rows.unshift(["SDK create, direct (floor)", String(total), ((total / floorWallMs) * 1000).toFixed(0), `${percentile(floorTimes, 50).toFixed(1)} ms`, `${percentile(floorTimes, 95).toFixed(1)} ms`]);
  console.log(`\nbench/activity: ${concurrency} requests in flight, local Cosmos endpoint, node ${process.version}\n`);
  printTable(["path", "statements", "statements/s", "p50 per request", "p95 per request"], rows);
  console.log("\nCPU per statement by process (Linux /proc; NaN elsewhere):\n");
  printTable(["phase", "bench (load or SDK client)", "Cosmos endpoint", "runtime", "PostgreSQL"], split);
  const floorPerSecond = (total / floorWallMs) * 1000;
  const floorCpuUs = (floorCpuMs * 1000) / total;
  const figures: BenchFigure[] = [{ measure: "SDK create, direct (floor)", value: floorPerSecond, unit: "statements/s" }];
  if (Number.isFinite(floorCpuUs)) figures.push({ measure: "SDK create, direct (floor), CPU per statement, all processes", value: Math.round(floorCpuUs), unit: "µs" });
  for (const m of measured) {
    figures.push({ measure: `POST /api/v1/activity, batch ${m.batch}`, value: m.perSecond, unit: "statements/s", floor: floorPerSecond, ...(m.batch === 1 ? { target: ">= 0.8x" } : {}) });
    figures.push({ measure: `POST /api/v1/activity, batch ${m.batch}, p95`, value: m.p95, unit: "ms" });
    if (Number.isFinite(m.cpuPerStatementUs)) figures.push({ measure: `POST /api/v1/activity, batch ${m.batch}, CPU per statement, all processes`, value: Math.round(m.cpuPerStatementUs), unit: "µs", floor: Math.round(floorCpuUs) });
  }
  recordResults("activity", figures);
} finally {
  await bench.close();
  endpoint.kill("SIGTERM");
  await endpointExited;
}
