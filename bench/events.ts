// bench/events: events from outbox commit to webhook delivery through the whole backbone on the local runtime:
// rows committed straight into the outbox (as a domain transaction would), published by the relay's sweep to the
// runtime's own in-memory Service Bus broker, handled by the `webhooks` subscription (inbox + planned delivery)
// and POSTed, signed, to a receiver on 127.0.0.1 that notes when each event id arrived.
// Usage: npm run build && npx tsx bench/events.ts
//   BENCH_EVENTS (10000), BENCH_TX_ROWS (100 rows per commit), BENCH_DEADLINE_S (180 s to wait for deliveries),
//   BENCH_STALL_S (30: stop waiting once the outbox is empty and nothing has arrived for that long).
import { createHmac, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import postgres from "postgres";
import { v7 as uuidv7 } from "uuid";
import { freePort } from "@ringlet/local-runtime/ports";
import { ServiceBusClient } from "@azure/service-bus";
import { cpus } from "node:os";
import { benchEnvironment, percentile, printTable, processCpuMs, recordResults, runtimeCli } from "./environment.js";

const eventsWanted = Number(process.env.BENCH_EVENTS ?? 10_000);
const rowsPerTx = Number(process.env.BENCH_TX_ROWS ?? 100);
const deadlineSeconds = Number(process.env.BENCH_DEADLINE_S ?? 180);
const eventType = "lesson.completed";

// --- the receiver: first arrival per event id (bench clock), duplicates, bad signatures ---
const arrivals = new Map<string, number>();
let duplicates = 0;
let badSignatures = 0;
let requests = 0;
let secret = "";
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const at = performance.now();
    requests++;
    const id = String(req.headers["ringlet-event-id"]);
    if (arrivals.has(id)) duplicates++;
    else arrivals.set(id, at);
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers["ringlet-signature"]));
    if (!m || createHmac("sha256", secret).update(`${m[1]}.${Buffer.concat(chunks).toString()}`).digest("hex") !== m[2]) badSignatures++;
    res.writeHead(204).end();
  });
});

// --- what the runtime logged: errors, and lock-lost settles among them ---
let errorLines = 0;
let lockLost = 0;
function countErrors(text: string): void {
  for (const line of text.split("\n")) {
    if (/\bERROR\b/.test(line)) errorLines++;
    if (/lock supplied is invalid|MessageLockLost|message-lock-lost/i.test(line)) lockLost++;
  }
}

/** The subscriptions whose rules take lesson.completed: each must keep up, not only the one measured end to end. */
const consumers = ["webhooks", "progress", "activity"] as const;

const ms = (n: number) => `${n.toFixed(0)} ms`;
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));

const bench = await benchEnvironment();
const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
try {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const address = receiver.address();
  const receiverUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hooks`;

  // The runtime with its own in-memory broker on a free port (the runtime starts one for an emulator endpoint).
  const busPort = await freePort();
  // BENCH_PROFILE_DIR: the runtime writes a CPU profile there when it stops (node --cpu-prof).
  const profile = process.env.BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const busConnection = `Endpoint=sb://127.0.0.1:${busPort};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`;
  const runtime = await bench.serve([...profile, runtimeCli, "start"], "/api/health", {
    ServiceBusConnection: busConnection,
    LOCAL_SERVICEBUS_DATA: "memory",
    LOCAL_SERVICEBUS_ENTITIES: "bicep/servicebus-entities.json",
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true",
    OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *",
  }, { onStderr: countErrors });

  // An admin through the API: register, promote in the database, sign in.
  const email = "bench-events-admin@example.test";
  const password = "Bench-password-0123";
  const json = { "content-type": "application/json" };
  const registered = await fetch(`${runtime}/api/v1/auth/register`, { method: "POST", headers: json, body: JSON.stringify({ email, password, displayName: "Bench" }), signal: AbortSignal.timeout(30_000) });
  if (!registered.ok) throw new Error(`register answered ${registered.status}: ${await registered.text()}`);
  await sql`update users set is_admin = true where email = ${email}`;
  const login = await fetch(`${runtime}/api/v1/auth/login`, { method: "POST", headers: json, body: JSON.stringify({ email, password }), signal: AbortSignal.timeout(30_000) });
  if (!login.ok) throw new Error(`login answered ${login.status}: ${await login.text()}`);
  const { accessToken } = (await login.json()) as { accessToken: string };

  const hook = await fetch(`${runtime}/api/v1/webhooks`, {
    method: "POST",
    headers: { ...json, authorization: `Bearer ${accessToken}`, "idempotency-key": randomUUID() },
    body: JSON.stringify({ url: receiverUrl, eventTypes: [eventType], description: "bench/events" }),
    signal: AbortSignal.timeout(30_000),
  });
  if (hook.status !== 201) throw new Error(`webhook registration answered ${hook.status}: ${await hook.text()}`);
  secret = ((await hook.json()) as { secret: string }).secret;

  // Commit the events, `rowsPerTx` to a transaction, as fast as one connection goes; each row's commit time is
  // when its transaction's COMMIT returned (bench clock, the receiver's clock).
  const courseId = uuidv7();
  const committedAt = new Map<string, number>();
  // CPU of the runtime (relay, broker, every subscription, the Cosmos endpoint) and of PostgreSQL, from the first
  // commit until every subscription had every event: what the burst costs, whatever the machine was doing.
  const runtimePid = bench.pidOf(runtime);
  const cpuAtStart = { runtime: processCpuMs(runtimePid), postgres: processCpuMs(bench.postgresPid, true), bench: process.cpuUsage() };
  const commitStart = performance.now();
  for (let i = 0; i < eventsWanted; i += rowsPerTx) {
    const now = new Date();
    const rows = Array.from({ length: Math.min(rowsPerTx, eventsWanted - i) }, () => {
      const id = uuidv7();
      const lessonId = uuidv7();
      const userId = uuidv7();
      return {
        id,
        type: eventType,
        aggregate_type: "lesson",
        aggregate_id: lessonId,
        course_id: courseId,
        occurred_at: now,
        created_at: now,
        actor: sql.json({ userId }),
        data: sql.json({ lessonId, courseId, userId, completedAt: now.toISOString() }),
      };
    });
    await sql.begin(async (tx) => {
      await tx`insert into outbox ${tx(rows, "id", "type", "aggregate_type", "aggregate_id", "course_id", "occurred_at", "created_at", "actor", "data")}`;
    });
    const at = performance.now();
    for (const r of rows) committedAt.set(r.id, at);
  }
  const commitEnd = performance.now();

  // Wait for the receiver (bounded), noting the outbox backlog once a second.
  const deadline = Date.now() + deadlineSeconds * 1000;
  let firstPublishedMs: number | null = null;
  let drainedMs: number | null = null;
  let lastProbe = 0;
  // Stalled: the outbox is empty and nothing has arrived for `stallSeconds`; waiting longer shows nothing new.
  const stallSeconds = Number(process.env.BENCH_STALL_S ?? 30);
  let lastCount = -1;
  let lastChange = Date.now();
  let stalled = false;
  while (arrivals.size < eventsWanted && Date.now() < deadline) {
    if (arrivals.size !== lastCount) [lastCount, lastChange] = [arrivals.size, Date.now()];
    if (Date.now() - lastProbe >= 1000) {
      lastProbe = Date.now();
      const [b] = await sql<{ left: number }[]>`select count(*)::int as left from outbox where published_at is null`;
      if (firstPublishedMs === null && (b?.left ?? 0) < eventsWanted) firstPublishedMs = performance.now() - commitStart;
      if (drainedMs === null && b?.left === 0) drainedMs = performance.now() - commitStart;
      if (drainedMs !== null && Date.now() - lastChange > stallSeconds * 1000) {
        stalled = true;
        break;
      }
    }
    await sleep(50);
  }
  const missing = arrivals.size < eventsWanted;
  const shortfall = stalled ? ` (stalled: outbox empty, nothing new for ${stallSeconds} s)` : missing ? ` (deadline ${deadlineSeconds} s reached)` : "";
  // The receiver answers before the runtime records success: give the last updates a moment (bounded).
  const settle = Date.now() + 10_000;
  let succeeded = 0;
  while (Date.now() < settle) {
    const [d] = await sql<{ n: number }[]>`select count(*)::int as n from webhook_deliveries where status = 'succeeded'`;
    succeeded = d?.n ?? 0;
    if (succeeded >= arrivals.size) break;
    await sleep(100);
  }

  // Every subscription that takes the event kept up: its inbox holds every event (bounded wait after the webhooks).
  const keptUp = new Map<string, { rows: number; at: number | null }>();
  const keepUpDeadline = Date.now() + 30_000;
  for (;;) {
    const rows = await sql<{ subscription: string; n: number }[]>`select subscription, count(*)::int as n from inbox where event_type = ${eventType} group by subscription`;
    const now = performance.now();
    for (const c of consumers) {
      const n = rows.find((r) => r.subscription === c)?.n ?? 0;
      const before = keptUp.get(c);
      keptUp.set(c, { rows: n, at: before?.at ?? (n >= eventsWanted ? now : null) });
    }
    if ([...keptUp.values()].every((k) => k.rows >= eventsWanted) || Date.now() > keepUpDeadline) break;
    await sleep(200);
  }
  const cpuAtEnd = { runtime: processCpuMs(runtimePid), postgres: processCpuMs(bench.postgresPid, true), bench: process.cpuUsage(cpuAtStart.bench) };
  const perEvent = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? NaN : (b - a) / eventsWanted);
  const cpuPerEvent = {
    runtime: perEvent(cpuAtStart.runtime, cpuAtEnd.runtime),
    postgres: perEvent(cpuAtStart.postgres, cpuAtEnd.postgres),
    bench: (cpuAtEnd.bench.user + cpuAtEnd.bench.system) / 1000 / eventsWanted,
  };
  // If nothing but this burst ran, the machine could not go faster than its cores divided by the CPU an event costs.
  const cpuCeiling = (cpus().length * 1000) / (cpuPerEvent.runtime + cpuPerEvent.postgres + cpuPerEvent.bench);
  // Dead letters on every subscription of the topic, peeked through the SDK.
  const deadLetters = new Map<string, number>();
  const bus = new ServiceBusClient(busConnection);
  try {
    for (const subscription of ["emails", "webhooks", "progress", "certificates", "grading", "activity"]) {
      const dlq = bus.createReceiver("lms-events", subscription, { subQueueType: "deadLetter", receiveMode: "peekLock" });
      deadLetters.set(subscription, (await dlq.peekMessages(1000)).length);
      await dlq.close();
    }
  } finally {
    await bus.close();
  }
  const deadLettered = [...deadLetters.values()].reduce((a, b) => a + b, 0);

  const latencies: number[] = [];
  let lastArrival = commitStart;
  for (const [id, at] of arrivals) {
    const committed = committedAt.get(id);
    if (committed === undefined) continue;
    latencies.push(at - committed);
    if (at > lastArrival) lastArrival = at;
  }
  latencies.sort((a, b) => a - b);
  const firstArrival = arrivals.size > 0 ? Math.min(...arrivals.values()) : NaN;
  const wall = ((arrivals.size > 0 ? lastArrival : performance.now()) - commitStart) / 1000;

  const [status] = await sql<{ backlog: number; published: number; pending: number; failed: number; retried: number; inbox: number }[]>`
    select (select count(*)::int from outbox where published_at is null) as backlog,
           (select count(*)::int from outbox where published_at is not null) as published,
           (select count(*)::int from webhook_deliveries where status = 'pending') as pending,
           (select count(*)::int from webhook_deliveries where status = 'failed') as failed,
           (select count(*)::int from webhook_deliveries where attempts > 1) as retried,
           (select count(*)::int from inbox where subscription = 'webhooks') as inbox`;
  // Where the time goes, from the database's own timestamps (same machine clock): commit → published (relay),
  // published → delivery planned (broker + trigger + inbox transaction), planned → delivered (the POST + reads).
  const [phases] = await sql<Record<string, number | null>[]>`
    with p as (
      select extract(epoch from (o.published_at - o.created_at)) * 1000 as relay,
             extract(epoch from (d.created_at - o.published_at)) * 1000 as handler,
             extract(epoch from (d.delivered_at - d.created_at)) * 1000 as post
      from outbox o join webhook_deliveries d on d.event_id = o.id where d.status = 'succeeded')
    select percentile_cont(0.5) within group (order by relay) as relay50, percentile_cont(0.95) within group (order by relay) as relay95,
           percentile_cont(0.5) within group (order by handler) as handler50, percentile_cont(0.95) within group (order by handler) as handler95,
           percentile_cont(0.5) within group (order by post) as post50, percentile_cont(0.95) within group (order by post) as post95
    from p`;
  const [publishSpan] = await sql<{ first: Date | null; last: Date | null }[]>`select min(published_at) as first, max(published_at) as last from outbox`;

  console.log(`\nbench/events: ${eventsWanted} ${eventType} events committed ${rowsPerTx} to a transaction, one webhook on 127.0.0.1, sweep every 1 s, node ${process.version}\n`);
  printTable(
    ["measure", "value"],
    [
      ["events committed", String(committedAt.size)],
      ["commit time (all transactions)", ms(commitEnd - commitStart)],
      ["events delivered (distinct)", `${arrivals.size}${shortfall}`],
      ["wall time, first commit to last delivery", `${wall.toFixed(2)} s`],
      ["events/s end to end", (arrivals.size / wall).toFixed(0)],
      ["first delivery after first commit", ms(firstArrival - commitStart)],
      ["latency commit → delivery p50 / p95 / p99", `${percentile(latencies, 50).toFixed(0)} / ${percentile(latencies, 95).toFixed(0)} / ${percentile(latencies, 99).toFixed(0)} ms`],
      ["latency max", ms(latencies[latencies.length - 1] ?? NaN)],
      ["webhook_deliveries succeeded", String(succeeded)],
      ["webhook_deliveries pending / failed", `${status?.pending} / ${status?.failed}`],
      ["webhook_deliveries with attempts > 1", String(status?.retried)],
      ["webhooks inbox rows", String(status?.inbox)],
      ["duplicates seen by the receiver", String(duplicates)],
      ["requests / bad signatures at the receiver", `${requests} / ${badSignatures}`],
      ["outbox backlog at the end", `${status?.backlog} (published ${status?.published})`],
      ["CPU per event (runtime / postgres / bench)", `${cpuPerEvent.runtime.toFixed(2)} / ${cpuPerEvent.postgres.toFixed(2)} / ${cpuPerEvent.bench.toFixed(2)} ms`],
      [`CPU ceiling on ${cpus().length} cores (cores / CPU per event)`, `${cpuCeiling.toFixed(0)} events/s`],
    ],
  );
  const span = publishSpan?.first && publishSpan.last ? publishSpan.last.getTime() - publishSpan.first.getTime() : NaN;
  console.log(`\nwhere the time goes (database timestamps, succeeded deliveries; the outbox was first seen shrinking ${firstPublishedMs === null ? "never" : ms(firstPublishedMs)} and empty ${drainedMs === null ? "never" : ms(drainedMs)} after the first commit, ±1 s)\n`);
  const phase = (a: string, b: string) => `${(phases?.[a] ?? NaN).toFixed(0)} / ${(phases?.[b] ?? NaN).toFixed(0)} ms`;
  printTable(
    ["phase", "p50 / p95"],
    [
      ["commit → published (relay sweep)", phase("relay50", "relay95")],
      ["published → delivery planned (broker, trigger, inbox tx)", phase("handler50", "handler95")],
      ["planned → delivered (POST and its reads/writes)", phase("post50", "post95")],
      ["first → last publish", ms(span)],
    ],
  );
  console.log("\nevery subscription that takes the event (inbox rows; time from the first commit until it had them all)\n");
  printTable(
    ["subscription", "handled", "all handled after"],
    consumers.map((c) => {
      const k = keptUp.get(c);
      return [c, `${k?.rows ?? 0} / ${eventsWanted}`, k?.at ? ms(k.at - commitStart) : "not within 30 s of the last delivery"];
    }),
  );
  console.log(`\ndead letters: ${[...deadLetters].map(([s, n]) => `${s} ${n}`).join(", ")}; runtime error lines: ${errorLines} (lock lost: ${lockLost})`);
  // A subscription that never had them all counts as 0 events/s: it did not keep up.
  const perSubscription = consumers.map((c) => {
    const at = keptUp.get(c)?.at;
    return { measure: `events/s handled by the ${c} subscription (all ${eventsWanted}, from the first commit)`, value: at ? Math.round(eventsWanted / ((at - commitStart) / 1000)) : 0, unit: "events/s", target: ">= 1000" };
  });
  recordResults("events", [
    { measure: "events/s end to end (commit → signed webhook delivered)", value: Math.round(arrivals.size / wall), unit: "events/s", target: ">= 1000" },
    { measure: "events delivered", value: arrivals.size, unit: "events", target: `= ${eventsWanted}` },
    { measure: "latency commit → delivery p99", value: Math.round(percentile(latencies, 99)), unit: "ms", target: "< 15000" },
    ...perSubscription,
    { measure: "runtime CPU per event (relay, broker, all subscriptions)", value: Number(cpuPerEvent.runtime.toFixed(2)), unit: "ms" },
    { measure: "PostgreSQL CPU per event", value: Number(cpuPerEvent.postgres.toFixed(2)), unit: "ms" },
    { measure: `CPU ceiling on ${cpus().length} cores (cores / CPU per event of all processes)`, value: Math.round(cpuCeiling), unit: "events/s" },
    { measure: "lock-lost settles logged", value: lockLost, unit: "lines", target: "= 0" },
    { measure: "dead letters (all subscriptions)", value: deadLettered, unit: "messages", target: "= 0" },
    { measure: "duplicates seen by the receiver", value: duplicates, unit: "requests", target: "= 0" },
  ]);
} finally {
  await sql.end({ timeout: 5 }).catch(() => undefined);
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
  await bench.close();
}
