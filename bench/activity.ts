// bench/activity: statements/s accepted by POST /api/v1/activity in batches of 1 and 50, with p95 latency,
// beside a floor of the same Cosmos writes made directly through the SDK in the same run.
// Usage: npm run bench:activity   (BENCH_STATEMENTS, BENCH_CONCURRENCY, BENCH_BATCHES (1,50); BENCH_PROFILE_DIR=<dir>
// writes a CPU profile of the runtime there when it stops)
import { Agent } from "node:https";
import { CosmosClient } from "@azure/cosmos";
import postgres from "postgres";
import { v7 as uuidv7 } from "uuid";
import { startCosmosEndpoint } from "../local/services/cosmos.js";
import { benchEnvironment, type BenchFigure, mintAccessToken, percentile, printTable, recordResults } from "./environment.js";

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

const cosmos = await startCosmosEndpoint({ port: 0 });
const bench = await benchEnvironment();
try {
  const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const base = await bench.serve([...profile, "dist/local/cli.js", "start"], "/api/health", { CosmosConnection: cosmos.connectionString });
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
  const rows: string[][] = [];
  const measured: { batch: number; perSecond: number; p95: number }[] = [];
  let offset = 0;
  const send = async (statements: ReturnType<typeof statement>[]) => {
    const res = await fetch(`${base}/api/v1/activity`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ statements }) });
    if (res.status !== 202) throw new Error(`answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  };
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
  const measureFloor = async (from: number, count: number) => {
    const r = await run(count, async (i) => void (await container.items.create({ ...statement(from + i, lessonId), id: `${userId}:f-${from + i}`, learnerId: userId })));
    floorTimes.push(...r.times);
    floorWallMs += r.wallMs;
  };
  await measureFloor(0, Math.floor(total / 2));
  for (const batch of batches) {
    const requests = Math.max(1, Math.floor(total / batch));
    const r = await run(requests, async (i) => {
      await send(Array.from({ length: batch }, (_, k) => statement(offset + i * batch + k, lessonId)));
    });
    offset += requests * batch;
    measured.push({ batch, perSecond: ((requests * batch) / r.wallMs) * 1000, p95: percentile(r.times, 95) });
    rows.push([`POST /api/v1/activity, batch ${batch}`, String(requests * batch), (((requests * batch) / r.wallMs) * 1000).toFixed(0), `${percentile(r.times, 50).toFixed(1)} ms`, `${percentile(r.times, 95).toFixed(1)} ms`]);
  }
  await measureFloor(Math.floor(total / 2), total - Math.floor(total / 2));
  floorTimes.sort((a, b) => a - b);
  rows.unshift(["SDK create, direct (floor)", String(total), ((total / floorWallMs) * 1000).toFixed(0), `${percentile(floorTimes, 50).toFixed(1)} ms`, `${percentile(floorTimes, 95).toFixed(1)} ms`]);
  console.log(`\nbench/activity: ${concurrency} requests in flight, local Cosmos endpoint, node ${process.version}\n`);
  printTable(["path", "statements", "statements/s", "p50 per request", "p95 per request"], rows);
  const floorPerSecond = (total / floorWallMs) * 1000;
  const figures: BenchFigure[] = [{ measure: "SDK create, direct (floor)", value: floorPerSecond, unit: "statements/s" }];
  for (const m of measured) {
    figures.push({ measure: `POST /api/v1/activity, batch ${m.batch}`, value: m.perSecond, unit: "statements/s", floor: floorPerSecond, ...(m.batch === 1 ? { target: ">= 0.8x" } : {}) });
    figures.push({ measure: `POST /api/v1/activity, batch ${m.batch}, p95`, value: m.p95, unit: "ms" });
  }
  recordResults("activity", figures);
} finally {
  await bench.close();
  await cosmos.stop();
}
